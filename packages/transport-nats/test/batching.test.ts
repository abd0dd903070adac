// Core NATS publishes go to the client a tick's worth at a time (see Publisher in pubsub.ts): what
// a caller publishes is copied, so it may reuse its buffer at once, and order holds across the batch
// and the messages with headers that go out at once.

import { checkBroker, uniqueName } from '@msg/conformance';
import type { Message, Transport } from '@msg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsTransport } from '../src/index.js';

const servers = 'nats://127.0.0.1:4222';
const skip = await checkBroker('NATS', '127.0.0.1', 4222);

describe.skipIf(skip)('nats: batched publishes', () => {
  let publisher: Transport;
  let subscriber: Transport;
  beforeAll(async () => {
    [publisher, subscriber] = await Promise.all([createNatsTransport({ servers }), createNatsTransport({ servers })]);
  });
  afterAll(() => Promise.all([publisher.close(), subscriber.close()]));

  async function receive(topic: string, count: number): Promise<{ got: Message[]; done: Promise<void> }> {
    const got: Message[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await subscriber.subscribe(topic, {
      handler: (message) => {
        got.push(message);
        if (got.length === count) done();
      },
    });
    return { got, done: all };
  }

  it('a caller that reuses one buffer after each awaited publish sends what it held then', async () => {
    const topic = uniqueName('reuse');
    const count = 500;
    const { got, done } = await receive(topic, count);
    const buffer = new Uint8Array(4);
    const view = new DataView(buffer.buffer);
    for (let i = 0; i < count; i++) {
      view.setUint32(0, i);
      await publisher.publish(topic, buffer);
    }
    await done;
    expect(got.map((m) => new DataView(m.data.buffer, m.data.byteOffset, 4).getUint32(0))).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it('keeps one publisher order across batched messages, messages with headers and batches past 64 KiB', async () => {
    const topic = uniqueName('order');
    const sizes = [10, 70_000, 10, 40_000, 40_000, 10];
    const count = 60;
    const { got, done } = await receive(topic, count);
    for (let i = 0; i < count; i++) {
      const data = new Uint8Array(sizes[i % sizes.length]!).fill(i);
      void publisher.publish(topic, data, i % 7 === 0 ? { headers: { n: String(i) } } : undefined);
    }
    await done;
    expect(got.map((m) => m.data[0])).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(got.filter((m) => m.headers.n !== undefined).map((m) => Number(m.headers.n))).toEqual(Array.from({ length: count }, (_, i) => i).filter((i) => i % 7 === 0));
  });

  it('what was published right before close reaches the subscriber', async () => {
    const topic = uniqueName('close');
    const own = await createNatsTransport({ servers });
    const { got, done } = await receive(topic, 3);
    for (const n of [1, 2, 3]) await own.publish(topic, Uint8Array.of(n));
    await own.close();
    await done;
    expect(got.map((m) => m.data[0])).toEqual([1, 2, 3]);
  });
});
