// The replier and the at-least-once consumer acknowledge a tick at a time (see Acks in consumer.ts):
// a request still in its handler holds back no acknowledgement but its own, so the prefetch window
// never fills behind it, and nothing is acknowledged before it is handled.

import { checkBroker, str, uniqueName, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);

describe.skipIf(skip)('amqp acknowledgements', () => {
  let place: TestVhost;
  const open: Transport[] = [];
  beforeAll(async () => {
    place = await createVhost('acks');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  afterAll(() => place?.remove());

  const transport = async (delivery: 'at-most-once' | 'at-least-once') => {
    const t = await createAmqpTransport({ url: place.url, delivery });
    open.push(t);
    return t;
  };

  it('a request held by its handler does not stop the replier: the 150 requests after it are answered', async () => {
    const [replier, requester] = await Promise.all([transport('at-most-once'), transport('at-most-once')]);
    const service = uniqueName('held');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await replier.reply(service, async (request) => {
      if (str(request.data) === 'hold') await released;
      return request.data;
    });
    const held = requester.request(service, utf8('hold'), { timeout: 20_000 });
    try {
      // More than the replier's prefetch (100): with acks held back behind the first, the rest would wait.
      const replies = await Promise.all(Array.from({ length: 150 }, (_, i) => requester.request(service, utf8(String(i)), { timeout: 10_000 })));
      expect(replies.map((r) => str(r.data))).toEqual(Array.from({ length: 150 }, (_, i) => String(i)));
    } finally {
      release();
    }
    expect(str((await held).data)).toBe('hold');
  });

  it('at-least-once: what a subscriber handled is not delivered again after it leaves, and what it had not is', async () => {
    const [publisher, first] = await Promise.all([transport('at-least-once'), transport('at-least-once')]);
    const topic = uniqueName('acked');
    const durable = uniqueName('d').replaceAll('.', '_');
    const seen: string[] = [];
    let two!: () => void;
    const gotTwo = new Promise<void>((resolve) => (two = resolve));
    const stop = new Promise<void>(() => undefined);
    const subscription = await first.subscribe(topic, {
      durable,
      handler: async (message) => {
        seen.push(str(message.data));
        if (seen.length === 2) two();
        if (str(message.data) === 'b') await stop; // in its handler when the subscriber leaves
      },
    });
    for (const text of ['a', 'b', 'c']) await publisher.publish(topic, utf8(text));
    await gotTwo;
    await subscription.unsubscribe();

    const second = await transport('at-least-once');
    const again: string[] = [];
    let done!: () => void;
    const gotC = new Promise<void>((resolve) => (done = resolve));
    await second.subscribe(topic, {
      durable,
      handler: (message) => {
        again.push(str(message.data));
        if (str(message.data) === 'c') done();
      },
    });
    await gotC;
    // 'a' was handled and acknowledged; 'b' was in hand when it left (the core counts it handled);
    // 'c' was never consumed and comes again.
    expect(again).toEqual(['c']);
  });
});
