// What a subscriber that does not read does to memory. At-most-once: the broker pushes everything
// (no-ack), the core holds `maxPending` and drops the newest past it, counting them. At-least-once:
// prefetch lets only `maxPending` unacknowledged messages reach the client; the rest wait in the
// broker's queue, and nothing is dropped.

import { Reader, checkBroker, str, utf8 } from '@msg/conformance';
import type { MessageStream, Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost, rabbitmqctl } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);
const COUNT = 500;
const MAX_PENDING = 10;

/** Polls `probe` every 50 ms until it returns true or `ms` pass; returns its last answer. */
async function until(probe: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(skip)('amqp slow subscriber', () => {
  let place: TestVhost;
  const open: Transport[] = [];
  beforeAll(async () => {
    place = await createVhost('slow');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  afterAll(() => place?.remove());

  async function pair(delivery: 'at-most-once' | 'at-least-once'): Promise<[Transport, Transport]> {
    const a = await createAmqpTransport({ url: place.url, delivery });
    const b = await createAmqpTransport({ url: place.url, delivery });
    open.push(a, b);
    return [a, b];
  }

  async function queueDepths(): Promise<{ ready: number; unacked: number }[]> {
    const out = await rabbitmqctl('list_queues', '-p', place.vhost, '--no-table-headers', 'name', 'messages_ready', 'messages_unacknowledged');
    return out
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[0]?.startsWith('msg.sub.'))
      .map((fields) => ({ ready: Number(fields[1]), unacked: Number(fields[2]) }));
  }

  it('at-most-once: the core keeps maxPending messages and drops the rest, counted in dropped', async () => {
    const [a, b] = await pair('at-most-once');
    const topic = `slow.amo.${process.pid}`;
    const stream: MessageStream = await a.subscribe(topic, { maxPending: MAX_PENDING });
    for (let i = 0; i < COUNT; i++) await b.publish(topic, utf8(String(i)));
    expect(await until(() => stream.dropped === COUNT - MAX_PENDING, 10_000)).toBe(true);
    // The oldest are kept, in order; the newest were dropped.
    const kept = await new Reader(stream).take(MAX_PENDING, 5000);
    expect(kept.map((m) => str(m.data))).toEqual(Array.from({ length: MAX_PENDING }, (_, i) => String(i)));
    expect(stream.dropped).toBe(COUNT - MAX_PENDING);
  });

  it('at-least-once: prefetch holds maxPending unacknowledged in the client, the rest wait in the broker, none is dropped', async () => {
    const [a, b] = await pair('at-least-once');
    const topic = `slow.alo.${process.pid}`;
    const stream = await a.subscribe(topic, { maxPending: MAX_PENDING });
    for (let i = 0; i < COUNT; i++) await b.publish(topic, utf8(String(i)));
    let depths: { ready: number; unacked: number }[] = [];
    const settled = await until(async () => {
      depths = await queueDepths();
      return depths.length === 1 && depths[0]?.unacked === MAX_PENDING && depths[0]?.ready === COUNT - MAX_PENDING;
    }, 10_000);
    expect(depths).toEqual([{ ready: COUNT - MAX_PENDING, unacked: MAX_PENDING }]);
    expect(settled).toBe(true);
    // Reading drains the broker's queue through the same window: everything arrives, in order.
    const all = await new Reader(stream).take(COUNT, 5000);
    expect(all.map((m) => Number(str(m.data)))).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(stream.dropped).toBe(0);
  });
});
