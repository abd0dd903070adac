// A subscriber slower than its publisher: the consumer stops fetching past maxPending while the
// broker holds the rest, and a handler that stalls longer than the group's session timeout loses
// nothing and sees nothing twice.

import { checkBroker } from '@msg/conformance';
import { type Message } from '@msg/core';
import { describe, expect, it } from 'vitest';
import { createKafkaTransport } from '../src/index.js';

const skip = await checkBroker('Kafka', '127.0.0.1', 9092);

const MESSAGES = 300;
/** Longer than the consumer's 10 s session timeout, so the wait must keep the member alive. */
const STALL_MS = 12_000;

describe.skipIf(skip)('kafka › a slow subscriber', () => {
  it('with maxPending 5 and a handler stalled past the session timeout, every message arrives once, in order', async () => {
    const [publisher, subscriber] = await Promise.all([createKafkaTransport(), createKafkaTransport()]);
    try {
      const topic = `slow.${process.pid}.${Date.now()}`;
      const got: number[] = [];
      let allArrived!: () => void;
      const arrived = new Promise<void>((resolve) => (allArrived = resolve));
      const stream = await subscriber.subscribe(topic, {
        maxPending: 5,
        handler: async (message: Message) => {
          if (got.length === 0) await new Promise((resolve) => setTimeout(resolve, STALL_MS));
          got.push(Number(Buffer.from(message.data).toString()));
          if (got.length === MESSAGES) allArrived();
        },
      });
      await Promise.all(Array.from({ length: MESSAGES }, (_, i) => publisher.publish(topic, Buffer.from(String(i)))));
      await arrived;
      expect(got).toEqual(Array.from({ length: MESSAGES }, (_, i) => i));
      expect(stream.dropped).toBe(0);
    } finally {
      await Promise.all([publisher.close(), subscriber.close()]);
    }
  }, 60_000);
});
