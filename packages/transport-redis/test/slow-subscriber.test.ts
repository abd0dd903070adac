// What a subscriber that does not read costs: on pub/sub the core holds `maxPending` messages and
// drops (and counts) the rest; on Streams the adapter holds at most `maxPending` unacknowledged
// entries and the rest waits in the server, in a stream trimmed to about `maxStreamLength`.

import { Reader, checkBroker } from '@msg/conformance';
import type { Message } from '@msg/core';
import { describe, expect, it } from 'vitest';
import { HOST, PORT, eventually, fixture, unique } from './admin.js';

const skip = await checkBroker('Redis', HOST, PORT);
const prefix = unique('slow');
const text = (message: Message) => Buffer.from(message.data).toString();
const bytes = (value: string) => new TextEncoder().encode(value);

describe.skipIf(skip)('redis slow subscriber', () => {
  const redis = fixture(prefix);
  const transport = (profile: 'pubsub' | 'streams', maxStreamLength?: number) => redis.transport({ profile, maxStreamLength });

  it('pub/sub: past maxPending the newest messages are dropped and counted; the oldest are kept', async () => {
    const subscriber = await transport('pubsub');
    const publisher = await transport('pubsub');
    const stream = await subscriber.subscribe('slow.pubsub', { maxPending: 10 });
    for (let i = 0; i < 200; i++) await publisher.publish('slow.pubsub', bytes(`m${i}`));
    expect(await eventually(() => stream.dropped === 190, 5000)).toBe(true);
    const iterator = stream[Symbol.asyncIterator]();
    const kept: string[] = [];
    for (let i = 0; i < 10; i++) kept.push(text((await iterator.next()).value as Message));
    expect(kept).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(stream.dropped).toBe(190);
  });

  it('streams: at most maxPending entries are taken from the server; the rest wait there and all arrive', async () => {
    const subscriber = await transport('streams');
    const publisher = await transport('streams');
    const topic = 'slow.streams';
    const group = 'durable.slow';
    const stream = await subscriber.subscribe(topic, { durable: 'slow', maxPending: 5 });
    for (let i = 0; i < 100; i++) await publisher.publish(topic, bytes(`m${i}`));
    const key = `${prefix}:st:${topic}`;
    const pending = async () => ((await redis.admin.xpending(key, group)) as [number])[0];
    const lag = async () => {
      const groups = (await redis.admin.xinfo('GROUPS', key)) as unknown[][];
      const info = groups.map((fields) => Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]])));
      return Number(info.find((g) => g.name === group)?.lag);
    };
    expect(await eventually(async () => (await pending()) === 5, 5000)).toBe(true);
    expect(await lag()).toBe(95);
    expect(await redis.admin.xlen(key)).toBe(100);

    const iterator = stream[Symbol.asyncIterator]();
    const got: string[] = [];
    for (let i = 0; i < 100; i++) got.push(text((await iterator.next()).value as Message));
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    await stream.unsubscribe();
    // Each was acknowledged once consumed, the last one when the subscription ended.
    expect(await eventually(async () => (await pending()) === 0, 5000)).toBe(true);
  });

  it('streams: a stream is trimmed to about maxStreamLength, so a subscriber away too long loses the oldest', async () => {
    const publisher = await transport('streams', 100);
    const topic = 'slow.trimmed';
    for (let i = 0; i < 1000; i++) await publisher.publish(topic, bytes(`m${i}`));
    const length = await redis.admin.xlen(`${prefix}:st:${topic}`);
    // MAXLEN ~ trims whole internal nodes (100 entries each by default): at least 100 stay, far fewer than 1000.
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThanOrEqual(300);
  });

  it('bus, in the Streams profile too: a member that does not read keeps 10,000 messages and drops the newest', async () => {
    const [slowSide, sender] = [await transport('streams'), await transport('streams')];
    const group = 'slow.bus';
    const slow = await slowSide.join(group);
    // A witness on the same connection as the slow member: once it has read everything, so has the slow one.
    // It reads while the messages arrive: a member is bounded too until it reads, witness or not.
    const witness = (await slowSide.join(group))[Symbol.asyncIterator]();
    const source = await sender.join(group);
    const total = 10_050;
    const witnessed = (async () => {
      for (let i = 0; i < total; i++) expect(text((await witness.next()).value as Message)).toBe(`m${i}`);
    })();
    for (let i = 0; i < total; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, total - i) }, (_, j) => source.send(bytes(`m${i + j}`))));
    }
    await witnessed;
    // Everything has arrived: what the slow member holds now is all it will ever yield.
    const held = new Reader(slow);
    let kept = 0;
    let last = '';
    for (let message = await held.next(500); message && kept <= total; message = await held.next(500)) {
      kept++;
      last = text(message);
    }
    expect(kept).toBe(10_000);
    expect(last).toBe('m9999');
  });
});
