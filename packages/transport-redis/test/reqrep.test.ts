// Repliers take queued requests in batches (RPOP with a count beside the BRPOP): a burst far larger
// than a batch and than the repliers' concurrency still reaches each request's replier exactly once.

import { checkBroker } from '@msg/conformance';
import { describe, expect, it } from 'vitest';
import { HOST, PORT, fixture, unique } from './admin.js';

const skip = await checkBroker('Redis', HOST, PORT);
const prefix = unique('reqrep');
const bytes = (value: string) => new TextEncoder().encode(value);
const text = (data: Uint8Array) => Buffer.from(data).toString();

describe.skipIf(skip)('redis request/reply', () => {
  const redis = fixture(prefix);
  const transport = (replyConcurrency?: number) => redis.transport({ replyConcurrency });

  it('a burst of 2,000 requests over 3 repliers: each is served exactly once and gets its own reply', async () => {
    const service = 'burst';
    const served = new Map<string, number>();
    const counts = [0, 0, 0];
    for (const [i, concurrency] of [1, 4, 64].entries()) {
      const replier = await transport(concurrency);
      await replier.reply(service, async (request) => {
        const body = text(request.data);
        served.set(body, (served.get(body) ?? 0) + 1);
        counts[i] = (counts[i] ?? 0) + 1;
        // Hold each request for a turn of the event loop, so that concurrency limits are reached.
        await new Promise((resolve) => setImmediate(resolve));
        return bytes(`re:${body}`);
      });
    }
    const requester = await transport();
    const total = 2000;
    const replies = await Promise.all(
      Array.from({ length: total }, (_, i) => requester.request(service, bytes(`r${i}`), { timeout: 30_000 })),
    );
    expect(replies.map((reply) => text(reply.data))).toEqual(Array.from({ length: total }, (_, i) => `re:r${i}`));
    expect(served.size).toBe(total);
    expect([...served.values()].every((n) => n === 1)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
  }, 60_000);

  it('a replier that stops leaves the requests it did not take to the others', async () => {
    const service = 'handover';
    const first = await transport(2);
    const second = await transport(2);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstServed = 0;
    const firstSubscription = await first.reply(service, async (request) => {
      firstServed++;
      await held;
      return request.data;
    });
    const requester = await transport();
    // The first replier holds at most two; the rest wait in the list until the second one starts.
    const pending = Array.from({ length: 20 }, (_, i) => requester.request(service, bytes(`h${i}`), { timeout: 30_000 }));
    const started = Date.now();
    while (firstServed < 2 && Date.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(firstServed).toBe(2);
    await firstSubscription.unsubscribe();
    await second.reply(service, (request) => request.data);
    release();
    const replies = await Promise.all(pending);
    expect(replies.map((reply) => text(reply.data))).toEqual(Array.from({ length: 20 }, (_, i) => `h${i}`));
    expect(firstServed).toBe(2);
  }, 60_000);
});
