// Native nanomsg programs as the other end: nanocat (libnanomsg) and nngcat (libnng), speaking the
// scalability protocols with no knowledge of msg.

import type { Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { newEndpoint } from '../src/endpoints.js';
import { Directory, createNanomsgTransport } from '../src/index.js';
import { NativePeer, eventually } from './native-peer.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const bytes = (value: string) => new TextEncoder().encode(value);

let peers: NativePeer[] = [];
let transports: Transport[] = [];

function native(tool: 'nanocat' | 'nngcat', args: string[]): NativePeer {
  const receives = !args.includes('--pub');
  const peer = new NativePeer(tool, receives ? [...args, '--quoted'] : args);
  peers.push(peer);
  return peer;
}

async function transport(options: Parameters<typeof createNanomsgTransport>[0] = {}): Promise<Transport> {
  const t = await createNanomsgTransport({ listen: 'tcp://127.0.0.1', ...options });
  transports.push(t);
  return t;
}

afterEach(async () => {
  await Promise.all(peers.map((peer) => peer.kill()));
  await Promise.all(transports.map((t) => t.close()));
  peers = [];
  transports = [];
});

describe('interop with native peers › request/reply', () => {
  it('nanocat as the replier answers our request, and receives our plain payload as is', async () => {
    const endpoint = await newEndpoint('tcp://127.0.0.1');
    const replier = native('nanocat', ['--rep', '--bind', endpoint, '--data', 'pong']);
    const directory = new Directory();
    directory.addService('native.echo', endpoint);
    const t = await transport({ directory, wire: 'plain' });
    const reply = await t.request('native.echo', bytes('ping'), { timeout: 5000 });
    expect(text(reply.data)).toBe('pong');
    expect(reply.subject).toBe('native.echo');
    await expect(replier.waitForLine((line) => line === 'ping', 5000)).resolves.toBe('ping');
  });

  it('an envelope-mode requester accepts a native plain reply as a payload with no headers', async () => {
    const endpoint = await newEndpoint('tcp://127.0.0.1');
    native('nanocat', ['--rep', '--bind', endpoint, '--data', 'pong']);
    const directory = new Directory();
    directory.addService('native.echo', endpoint);
    const t = await transport({ directory });
    const reply = await t.request('native.echo', bytes('ping'), { headers: { trace: 'x' }, timeout: 5000 });
    expect(text(reply.data)).toBe('pong');
    expect(reply.headers).toEqual({});
  });

  it('nanocat as the requester gets our replier\'s answer as plain bytes', async () => {
    const endpoint = await newEndpoint('tcp://127.0.0.1');
    const t = await transport({ bind: { reply: { 'native.upper': endpoint } } });
    await t.reply('native.upper', (request) => bytes(text(request.data).toUpperCase()));
    const requester = native('nanocat', ['--req', '--connect', endpoint, '--data', 'hello']);
    await expect(requester.waitForLine((line) => line === 'HELLO', 5000)).resolves.toBe('HELLO');
  });

  it('a native requester gets the handler\'s error message as text', async () => {
    const endpoint = await newEndpoint('tcp://127.0.0.1');
    const t = await transport({ bind: { reply: { 'native.fail': endpoint } } });
    await t.reply('native.fail', () => {
      throw new Error('out of stock');
    });
    const requester = native('nngcat', ['--req', '--connect', endpoint, '--data', 'buy']);
    await expect(requester.waitForLine((line) => line === 'out of stock', 5000)).resolves.toBe('out of stock');
  });
});

describe('interop with native peers › publish/subscribe', () => {
  it('nanocat subscribed to "TOPIC " receives our plain publish as "TOPIC payload"', async () => {
    const publish = await newEndpoint('tcp://127.0.0.1');
    const t = await transport({ bind: { publish }, wire: 'plain' });
    const subscriber = native('nanocat', ['--sub', '--connect', publish, '--subscribe', 'native.news ']);
    // nanomsg drops what a PUB sends before a SUB is connected, so publish until nanocat has one.
    const line = await eventually(async () => {
      await t.publish('native.news', bytes('hello'));
      await t.publish('native.other', bytes('not this'));
      return subscriber.lines[0];
    }, 50, 100);
    expect(line).toBe('native.news hello');
    expect(subscriber.lines).not.toContain('native.other not this');
  });

  it('nngcat publishing "TOPIC payload" reaches our subscriber as a plain message', async () => {
    const publish = await newEndpoint('tcp://127.0.0.1');
    native('nngcat', ['--pub', '--listen', publish, '--data', 'native.feed tick', '--interval', '1']);
    const directory = new Directory();
    directory.addPeer({ endpoints: { publish } });
    const t = await transport({ directory });
    const stream = await t.subscribe('native.feed');
    for await (const message of stream) {
      expect(text(message.data)).toBe('tick');
      expect(message.subject).toBe('native.feed');
      expect(message.headers).toEqual({});
      break;
    }
  });
});

describe('interop with native peers › survey', () => {
  it('nngcat as a respondent answers our survey before the deadline', async () => {
    const survey = await newEndpoint('tcp://127.0.0.1');
    const t = await transport({ bind: { survey }, wire: 'plain' });
    const respondent = native('nngcat', ['--respondent', '--dial', survey, '--data', 'here']);
    // Until nngcat has connected, a survey reaches nobody: ask again until it answers.
    const answers = await eventually(async () => {
      const got = await t.survey('native.census', bytes('who'), { deadline: 300 }).toArray();
      return got.length > 0 ? got : undefined;
    }, 30, 50);
    expect(answers.map((answer) => text(answer.data))).toEqual(['here']);
    expect(respondent.lines).toContain('native.census who');
  });

  it('nanocat as the surveyor gets our respondent\'s plain answer to its plain question', async () => {
    const survey = await newEndpoint('tcp://127.0.0.1');
    const surveyor = native('nanocat', ['--surveyor', '--bind', survey, '--data', 'native.poll ready?', '--interval', '0.1']);
    const directory = new Directory();
    directory.addPeer({ endpoints: { survey } });
    const t = await transport({ directory });
    await t.respond('native.poll', (question) => bytes(`yes:${text(question.data)}`));
    await expect(surveyor.waitForLine((line) => line === 'yes:ready?', 5000)).resolves.toBe('yes:ready?');
  });
});

describe('interop with native peers › bus', () => {
  it('nanocat on the bus and our member hear each other', async () => {
    const bus = await newEndpoint('tcp://127.0.0.1');
    const member = native('nanocat', ['--bus', '--bind', bus, '--data', 'native.room hi', '--interval', '0.05']);
    const directory = new Directory();
    directory.addPeer({ endpoints: { bus } });
    const t = await transport({ directory, wire: 'plain' });
    const joined = await t.join('native.room');
    for await (const message of joined) {
      expect(text(message.data)).toBe('hi');
      break;
    }
    await joined.send(bytes('hello back'));
    await expect(member.waitForLine((line) => line === 'native.room hello back', 5000)).resolves.toBe('native.room hello back');
  });
});
