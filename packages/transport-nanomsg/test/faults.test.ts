// Bad input and dead peers: garbage on a bound port, a client that vanishes, an oversized payload, and
// a native replier killed and restarted. None may crash or wedge the process.

import { connect as tcpConnect } from 'node:net';
import { StatusLog, sleep } from '@msg/conformance';
import { ENVELOPE_MAGIC, ENVELOPE_VERSION, type Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { newEndpoint } from '../src/endpoints.js';
import { Directory, createNanomsgTransport, nanomsgCapabilities } from '../src/index.js';
import { NanoSocket } from '../src/socket.js';
import { NativePeer } from './native-peer.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const bytes = (value: string) => new TextEncoder().encode(value);

let peers: NativePeer[] = [];
let transports: Transport[] = [];

async function transport(options: Parameters<typeof createNanomsgTransport>[0]): Promise<Transport> {
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

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

/** Opens a raw TCP connection to `port`, writes `data` (if any), and resolves once it is closed. */
function rawClient(port: number, data: Buffer | undefined): Promise<void> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
    socket.once('connect', () => {
      if (data) socket.end(data);
      else socket.destroy();
    });
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}

describe('faults', () => {
  it('garbage written to a bound port neither crashes nor wedges the process: traffic still flows', async () => {
    const directory = new Directory();
    const reply = await newEndpoint('tcp://127.0.0.1');
    const publish = await newEndpoint('tcp://127.0.0.1');
    const a = await transport({ directory, bind: { publish, reply: { 'fault.echo': reply } } });
    const b = await transport({ directory });
    await a.reply('fault.echo', (request) => request.data);
    const stream = await b.subscribe('fault.news');
    const garbage = Buffer.alloc(64 * 1024, 0xff);
    // A valid SP header announcing a huge frame, then too few bytes.
    const lying = Buffer.concat([Buffer.from([0, 0x53, 0x50, 0, 0, 0x20, 0, 0]), Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2])]);
    await Promise.all([rawClient(portOf(reply), garbage), rawClient(portOf(publish), garbage), rawClient(portOf(reply), lying)]);
    expect(text((await b.request('fault.echo', bytes('still here'))).data)).toBe('still here');
    await a.publish('fault.news', bytes('still publishing'));
    for await (const message of stream) {
      expect(text(message.data)).toBe('still publishing');
      break;
    }
  });

  it('a malformed envelope sent to a replier is reported to status() as BAD_FRAME, and the replier goes on', async () => {
    const directory = new Directory();
    const reply = await newEndpoint('tcp://127.0.0.1');
    const a = await transport({ directory, bind: { reply: { 'fault.echo': reply } } });
    const b = await transport({ directory });
    const watched = new StatusLog(a);
    await a.reply('fault.echo', (request) => request.data);
    // Our magic and version, then a kind no envelope has: it starts like ours but cannot decode.
    const raw = new NanoSocket('req', { maxFrame: 1024, bufferBytes: 64 * 1024 });
    try {
      raw.connect(reply);
      for (let i = 0; i < 200 && watched.events.length === 0; i++) {
        raw.send(new Uint8Array([ENVELOPE_MAGIC, ENVELOPE_VERSION, 0x63, 0]));
        await sleep(10);
      }
    } finally {
      raw.close();
    }
    expect(watched.events[0]).toMatchObject({ type: 'error', connection: 'the replier of "fault.echo"', error: { code: 'BAD_FRAME' } });
    expect(text((await b.request('fault.echo', bytes('still here'))).data)).toBe('still here');
  });

  it('a client that connects and vanishes leaves the replier serving', async () => {
    const directory = new Directory();
    const reply = await newEndpoint('tcp://127.0.0.1');
    const a = await transport({ directory, bind: { reply: { 'fault.vanish': reply } } });
    const b = await transport({ directory });
    await a.reply('fault.vanish', () => bytes('ok'));
    await Promise.all(Array.from({ length: 20 }, () => rawClient(portOf(reply), undefined)));
    expect(text((await b.request('fault.vanish', bytes('?'))).data)).toBe('ok');
  });

  it('a payload one byte over the declared maximum is refused with PAYLOAD_TOO_LARGE', async () => {
    const t = await transport({ directory: new Directory() });
    const tooBig = new Uint8Array(nanomsgCapabilities.maxPayload + 1);
    await expect(t.publish('fault.big', tooBig)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limit: nanomsgCapabilities.maxPayload });
    await expect(t.request('fault.big', tooBig)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('headers that push a frame past what peers accept are refused with PAYLOAD_TOO_LARGE', async () => {
    const t = await transport({ directory: new Directory() });
    const huge = 'x'.repeat(2 * 1024 * 1024);
    await expect(t.publish('fault.headers', new Uint8Array(nanomsgCapabilities.maxPayload), { headers: { huge } })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });

  it('a killed replier fails the request in flight with TIMEOUT, and a restarted one is reached again by itself', async () => {
    const endpoint = await newEndpoint('tcp://127.0.0.1');
    const directory = new Directory();
    directory.addService('fault.restart', endpoint);
    const t = await transport({ directory });
    // This replier takes requests and never answers, so the request below is in flight when it dies.
    const silent = new NativePeer('nanocat', ['--rep', '--bind', endpoint, '--quoted']);
    peers.push(silent);
    const inFlight = t.request('fault.restart', bytes('lost'), { timeout: 1500 });
    await silent.waitForLine(() => true, 5000);
    await silent.kill();
    await expect(inFlight).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('fault.restart') });
    peers.push(new NativePeer('nanocat', ['--rep', '--bind', endpoint, '--data', 'back', '--quoted']));
    const reply = await t.request('fault.restart', bytes('again'), { timeout: 10_000 });
    expect(text(reply.data)).toBe('back');
  });
});
