// The connection is cut (CLIENT KILL ID of this test's own connections) under load: the adapter
// reconnects, subscriptions resume, requests in flight fail with a clear error, and the Streams
// profile delivers every message whose publish resolved.

import { StatusLog, checkBroker } from '@msg/conformance';
import { type Message, isMsgError } from '@msg/core';
import { describe, expect, it } from 'vitest';
import { HOST, PORT, connectionIds, cutConnections, eventually, fixture, unique } from './admin.js';

const skip = await checkBroker('Redis', HOST, PORT);
const prefix = unique('faults');
const text = (message: Message) => Buffer.from(message.data).toString();
const bytes = (value: string) => new TextEncoder().encode(value);

describe.skipIf(skip)('redis faults', () => {
  const redis = fixture(prefix);
  const transport = (connectionName: string, profile: 'pubsub' | 'streams' = 'pubsub') => redis.transport({ connectionName, profile, claimIdleMs: 1000 });

  it('a cut connection is restored: the subscription resumes and requests work again', async () => {
    const name = unique('cut');
    const cut = await transport(name);
    const watched = new StatusLog(cut);
    const peer = await transport(unique('peer'));
    const topic = 'faults.resume';
    const got: string[] = [];
    await cut.subscribe(topic, { handler: (message) => void got.push(text(message)) });
    await peer.reply('faults.echo', (request) => request.data);
    await peer.publish(topic, bytes('before'));
    expect(await eventually(() => got.includes('before'), 5000)).toBe(true);

    const before = await cutConnections(redis.admin, name);
    expect(before.length).toBe(2);
    // Reconnected (new ids under the same names) and resubscribed: a probe published now arrives.
    expect(await eventually(async () => (await connectionIds(redis.admin, name)).filter((id) => !before.includes(id)).length === 2, 10_000)).toBe(true);
    let probes = 0;
    const resumed = await eventually(async () => {
      await peer.publish(topic, bytes(`after${++probes}`));
      return got.some((t) => t.startsWith('after'));
    }, 10_000);
    expect(resumed).toBe(true);
    expect(text(await cut.request('faults.echo', bytes('again')))).toBe('again');

    // A user watching status() saw both connections (command, subscriber) go and come back, in order.
    console.info(`redis faults: status events ${watched.types().join(' → ')}`);
    for (const connection of ['command', 'subscriber']) {
      expect(watched.types(connection)).toEqual(['disconnected', 'reconnecting', 'reconnected']);
    }
    expect(watched.events.find((event) => event.type === 'disconnected')).toMatchObject({ error: { code: 'CONNECTION' } });
  });

  it('requests in flight when the connection is cut fail with CONNECTION, not at their timeout', async () => {
    const name = unique('inflight');
    const requester = await transport(name);
    const replier = await transport(unique('silent'));
    let serving = 0;
    await replier.reply('faults.silent', () => {
      serving++;
      return new Promise(() => undefined);
    });
    const inFlight = Array.from({ length: 20 }, () =>
      requester.request('faults.silent', bytes('x'), { timeout: 60_000 }).then(
        () => 'answered',
        (error: unknown) => error,
      ),
    );
    // Cut once every request has reached the replier, so that only the replies are outstanding.
    expect(await eventually(() => serving === 20, 5000)).toBe(true);
    expect((await cutConnections(redis.admin, name)).length).toBeGreaterThan(0);
    for (const outcome of await Promise.all(inFlight)) {
      expect(isMsgError(outcome, 'CONNECTION')).toBe(true);
      expect((outcome as Error).message).toMatch(/connection was lost while waiting for the reply/);
    }
  });

  it('streams: every message whose publish resolved is delivered across cuts of both sides', async () => {
    const publisherName = unique('spub');
    const subscriberName = unique('ssub');
    const publisher = await transport(publisherName, 'streams');
    const subscriber = await transport(subscriberName, 'streams');
    const topic = 'faults.stream';
    const received = new Map<string, number>();
    await subscriber.subscribe(topic, {
      durable: 'faults',
      handler: (message) => void received.set(text(message), (received.get(text(message)) ?? 0) + 1),
    });

    const total = 2000;
    const sent = new Set<string>();
    let failed = 0;
    let cuts = 0;
    const started = Date.now();
    // Bounded load: `total` messages in batches of 50, cut twice on the way, at most 30 s.
    for (let i = 0; i < total && Date.now() - started < 30_000; i += 50) {
      if (i === 500 || i === 1200) {
        cuts += (await cutConnections(redis.admin, subscriberName)).length;
        cuts += (await cutConnections(redis.admin, publisherName)).length;
      }
      const batch = Array.from({ length: 50 }, (_, j) => `m${i + j}`);
      const results = await Promise.allSettled(batch.map((body) => publisher.publish(topic, bytes(body))));
      results.forEach((result, j) => {
        if (result.status === 'fulfilled') sent.add(batch[j] as string);
        else failed++;
      });
    }
    expect(cuts).toBeGreaterThanOrEqual(4);
    const allArrived = await eventually(() => [...sent].every((body) => received.has(body)), 20_000);
    const missing = [...sent].filter((body) => !received.has(body));
    const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
    console.info(`streams faults: ${sent.size} published, ${failed} publishes failed, ${missing.length} missing, ${duplicates} duplicates`);
    expect(missing).toEqual([]);
    expect(allArrived).toBe(true);
    expect(sent.size).toBeGreaterThan(0);
  }, 60_000);
});
