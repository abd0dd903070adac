// CURVE: members holding the network's key pair talk; a peer without it (or with another) gets nothing
// through, in either direction.

import { type Transport, connect } from '@msg/core';
import { curveKeyPair } from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory, createZmqTransport, sharedDirectory } from '../src/index.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

const open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function track(transport: Promise<Transport>): Promise<Transport> {
  const t = await transport;
  open.push(t);
  return t;
}

/** Resolves to the first message of `stream` within `ms`, or undefined. */
async function firstWithin(stream: AsyncIterable<{ data: Uint8Array }>, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const next = stream[Symbol.asyncIterator]().next().then((r) => (r.done ? undefined : text(r.value.data)));
  const result = await Promise.race([next, timeout]);
  clearTimeout(timer);
  return result;
}

describe('curve', () => {
  it('members with the key pair exchange requests and messages; peers without it or with another get nothing through', async () => {
    const curve = curveKeyPair();
    const directory = new Directory();
    const a = await track(createZmqTransport({ directory, curve }));
    const b = await track(createZmqTransport({ directory, curve }));
    let served = 0;
    await a.reply('secret.echo', (request) => {
      served++;
      return request.data;
    });
    expect(text((await b.request('secret.echo', utf8('hi'))).data)).toBe('hi');

    // The intruders know every endpoint, but not the key pair.
    const [replier] = directory.services('secret.echo');
    const publishers = directory.peers().flatMap((p) => (p.endpoints.publish ? [p.endpoints.publish] : []));
    const intruders = await Promise.all(
      [undefined, curveKeyPair()].map((keys) => {
        const seen = new Directory();
        seen.addService('secret.echo', replier as string);
        for (const endpoint of publishers) seen.addPeer({ endpoints: { publish: endpoint } });
        return track(createZmqTransport({ directory: seen, curve: keys }));
      }),
    );
    for (const intruder of intruders) {
      await expect(intruder.request('secret.echo', utf8('let me in'), { timeout: 5000 })).rejects.toMatchObject({
        code: 'CONNECTION',
        message: expect.stringMatching(/security handshake/),
      });
    }
    expect(served).toBe(1);

    const member = await a.subscribe('secret.news');
    const outsiders = await Promise.all(intruders.map((intruder) => intruder.subscribe('secret.news')));
    await b.publish('secret.news', utf8('for members'));
    expect(await firstWithin(member, 2000)).toBe('for members');
    for (const outsider of outsiders) expect(await firstWithin(outsider, 300)).toBeUndefined();
  });
});

describe('connect by URL', () => {
  it('zmq+tcp:// transports on one named directory find each other', async () => {
    const url = `zmq+tcp://127.0.0.1?directory=url-${process.pid}`;
    const a = await track(connect(url));
    const b = await track(connect(url));
    expect(a.name).toBe('zmq');
    await a.reply('url.echo', (request) => request.data);
    expect(text((await b.request('url.echo', utf8('by name'))).data)).toBe('by name');
    expect(sharedDirectory(`url-${process.pid}`).services('url.echo')).toHaveLength(1);
  });

  it('zmq+ipc:// binds socket files in the given directory', async () => {
    const url = `zmq+ipc:///tmp?directory=ipc-${process.pid}`;
    const a = await track(connect(url));
    const b = await track(connect(url));
    await a.reply('ipc.echo', (request) => request.data);
    expect(sharedDirectory(`ipc-${process.pid}`).services('ipc.echo')[0]).toMatch(/^ipc:\/\/\/tmp\/msg-/);
    expect(text((await b.request('ipc.echo', utf8('over ipc'))).data)).toBe('over ipc');
  });
});
