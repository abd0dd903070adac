// A QoS 1 subscriber that reads nothing while 3,000 messages are published, then reads them all.
// The subscription advertises `maxPending` as its Receive Maximum, so that many are in flight to it;
// what the broker holds beyond that is its queue. With `max_queued_messages 0` (no limit) nothing is
// lost; on Mosquitto's default of 1000 the broker drops what exceeds it, while still acknowledging
// the publisher: the bound the README states, checked here so that it stays true.

import { Reader } from '@msg/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../src/index.js';
import { TestBroker } from './server.js';

async function publishThenRead(url: string, maxPending: number): Promise<number> {
  const [a, b] = [await createMqttTransport({ url, qos: 1 }), await createMqttTransport({ url, qos: 1 })];
  try {
    const reader = new Reader(await a.subscribe('slow.orders', { maxPending }));
    await Promise.all(Array.from({ length: 3000 }, (_, i) => b.publish('slow.orders', Buffer.from(String(i)))));
    let received = 0;
    while (await reader.next(500)) received++;
    return received;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

describe('QoS 1: a subscriber that falls behind', () => {
  let unbounded: TestBroker;
  let defaults: TestBroker;
  beforeAll(async () => {
    [unbounded, defaults] = await Promise.all([TestBroker.start({ config: ['max_queued_messages 0'] }), TestBroker.start()]);
  });
  afterAll(() => Promise.all([unbounded.stop(), defaults.stop()]));

  it('loses nothing when the broker queues without limit', async () => {
    expect(await publishThenRead(unbounded.url, 100)).toBe(3000);
  });

  it('within maxPending plus the broker\'s queue on its default settings, and no more', async () => {
    expect(await publishThenRead(defaults.url, 3000)).toBe(3000);
    expect(await publishThenRead(defaults.url, 100)).toBe(100 + 1000);
  });
});
