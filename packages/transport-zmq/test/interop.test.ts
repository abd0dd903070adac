// A program no one here wrote as the other end: pyzmq peers (test/peers/*.py) on plain libzmq sockets.

import { type Transport, decodeEnvelope } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory, createZmqTransport } from '../src/index.js';
import { type Peer, framesOf, pythonMissing, startPeer } from './python.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const skip = pythonMissing();

describe.skipIf(skip !== undefined)(`interop with pyzmq peers${skip ? ` [SKIPPED: ${skip}]` : ''}`, () => {
  const open: Transport[] = [];
  const peers: Peer[] = [];
  const transport = async (directory: Directory, workers = 0) => {
    const t = await createZmqTransport({ directory, workers });
    open.push(t);
    return t;
  };
  const peer = (script: string, args: string[]) => {
    const p = startPeer(script, args);
    peers.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.kill()));
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  it('our requester reaches a Python ROUTER replier listed in the directory, many requests in flight', async () => {
    const directory = new Directory();
    const python = peer('router_replier.py', ['tcp://127.0.0.1:*']);
    const [, endpoint] = (await python.line()).split(' ');
    directory.addService('py.echo', endpoint as string);
    const requester = await transport(directory);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => requester.request('py.echo', utf8(`n${i}`), { headers: { trace: `t${i}` } })));
    replies.forEach((reply, i) => {
      expect(text(reply.data)).toBe(`py:n${i}`);
      expect(reply.subject).toBe('py.echo');
    });
  });

  it('our requester reaches a plain Python REP replier: the request id is the envelope REP echoes', async () => {
    const directory = new Directory();
    const python = peer('rep_replier.py', ['tcp://127.0.0.1:*']);
    const [, endpoint] = (await python.line()).split(' ');
    directory.addService('py.rep', endpoint as string);
    const requester = await transport(directory);
    for (let i = 0; i < 3; i++) expect(text((await requester.request('py.rep', utf8(`r${i}`))).data)).toBe(`rep:r${i}`);
  });

  for (const workers of [0, 4]) {
    it(`a Python REQ client gets the payload as its first reply frame (workers: ${workers})`, async () => {
      const directory = new Directory();
      const replier = await transport(directory, workers);
      await replier.reply('shop.price', (request) => ({ data: utf8(`price of ${text(request.data)}`), headers: { currency: 'EUR' } }));
      const [endpoint] = directory.services('shop.price');
      const python = peer('req_client.py', [endpoint as string, 'apple']);
      const [payload, meta] = framesOf(await python.line());
      expect(payload?.toString()).toBe('price of apple');
      // The meta frame after it is the documented envelope; a native client may ignore it.
      const envelope = decodeEnvelope(meta as Buffer);
      expect(envelope.message.headers.currency).toBe('EUR');
      expect(envelope.message.subject).toBe('shop.price');
    });
  }

  it('a Python SUB subscribed to our topic by prefix reads the payload frame as is', async () => {
    const directory = new Directory();
    const publisher = await transport(directory);
    const [pub] = directory.peers();
    const python = peer('sub_reader.py', [pub?.endpoints.publish as string, 'weather']);
    expect(await python.line()).toBe('ready');
    const payload = Uint8Array.from([0, 1, 2, 255, 254]);
    // A new subscriber's subscription reaches the publisher a moment after it connects (the slow
    // joiner): publish until the peer has one, bounded in count and time.
    const received = python.line(10_000);
    for (let i = 0; i < 200; i++) {
      await publisher.publish('weather.paris', payload);
      const done = await Promise.race([received.then(() => true), new Promise((r) => setTimeout(() => r(false), 25))]);
      if (done) break;
    }
    const [topic, data, meta] = framesOf(await received);
    expect(topic?.toString()).toBe('weather.paris');
    expect(Buffer.compare(data as Buffer, Buffer.from(payload))).toBe(0);
    // A message without headers needs no meta frame: [topic, payload], as a native PUB sends.
    expect(meta).toBeUndefined();
  });

  it('our subscriber receives a Python PUB message sent as [topic, payload]', async () => {
    const directory = new Directory();
    const python = peer('pub_writer.py', ['sensors.t1', '21.5C']);
    const [, endpoint] = (await python.line()).split(' ');
    directory.addPeer({ endpoints: { publish: endpoint as string } });
    const subscriber = await transport(directory);
    const stream = await subscriber.subscribe('sensors.*');
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(first.value?.subject).toBe('sensors.t1');
    expect(text(first.value?.data ?? new Uint8Array())).toBe('21.5C');
    expect(first.value?.headers).toEqual({});
  });
});
