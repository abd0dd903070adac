// CURVE: members holding the network's key pair talk; a peer without it (or with another) gets nothing
// through, in either direction.

import { connect as tcpConnect } from 'node:net';
import { freePort } from '@msg/conformance';
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

/** The security mechanism a ZMTP server at `endpoint` asks for in its greeting (bytes 12-31). */
function mechanismOf(endpoint: string): Promise<string> {
  const [, host, port] = /^tcp:\/\/\[?([^\]]*?)\]?:(\d+)$/.exec(endpoint) as unknown as [string, string, string];
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port: Number(port) });
    // The signature and major version: enough for the server to send the rest of its greeting.
    const greeting = Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3]);
    let got = Buffer.alloc(0);
    socket.setTimeout(5000, () => socket.destroy(new Error('no greeting within 5 s')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(greeting));
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 32) return;
      socket.destroy();
      resolve(got.toString('latin1', 12, 32).replace(/\0+$/, ''));
    });
  });
}

describe('curve with discovery', () => {
  it('members found by discovery talk over CURVE links; a node that learnt the endpoints the same way but lacks the keys gets nothing through', async () => {
    const curve = curveKeyPair();
    const discovery = { via: 'udp' as const, beacon: { port: await freePort() }, secret: `curve-${process.pid}`, intervalMs: 100 };
    const [aDirectory, bDirectory, intruderDirectory] = [new Directory(), new Directory(), new Directory()];
    const a = await track(createZmqTransport({ directory: aDirectory, curve, discovery }));
    const b = await track(createZmqTransport({ directory: bDirectory, curve, discovery }));
    const intruder = await track(createZmqTransport({ directory: intruderDirectory, discovery }));
    let served = 0;
    await a.reply('curve.echo', (request) => {
      served++;
      return request.data;
    });
    expect(text((await b.request('curve.echo', utf8('over curve'), { timeout: 5000 })).data)).toBe('over curve');

    // The replier's endpoint, as discovery told the others, asks every peer for CURVE.
    const [endpoint] = bDirectory.services('curve.echo');
    expect(endpoint).toBeDefined();
    expect(await mechanismOf(endpoint as string)).toBe('CURVE');
    await expect(intruder.request('curve.echo', utf8('let me in'), { timeout: 5000 })).rejects.toMatchObject({ code: 'CONNECTION', message: expect.stringMatching(/security handshake/) });
    expect(intruderDirectory.services('curve.echo')).toEqual([endpoint]);
    expect(served).toBe(1);
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
