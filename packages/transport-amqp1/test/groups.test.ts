// Queue groups are ActiveMQ virtual topics: each group consumes its own queue
// `Consumer.<group>.VirtualTopic.<pattern>`, so two groups each get every message once, a wildcard
// group shares the messages of every matching topic, and (a group's queue being a queue) what is
// published while no member of a group is there waits for its next member.

import { Reader, checkBroker, sleep, str, uniqueName, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createAmqp1Transport } from '../src/index.js';

const skip = await checkBroker('ActiveMQ (AMQP 1.0)', '127.0.0.1', 5673);
const url = 'amqp1://127.0.0.1:5673';

let open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});
async function transport(confirm = false): Promise<Transport> {
  const t = await createAmqp1Transport({ url, confirm });
  open.push(t);
  return t;
}
const group = () => uniqueName('g').replaceAll('.', '_');

/** Collects what a subscription's handler gets. */
async function collect(t: Transport, pattern: string, queue: string, into: string[]): Promise<void> {
  await t.subscribe(pattern, { queue, handler: (message) => void into.push(`${message.subject}=${str(message.data)}`) });
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await sleep(10);
}

describe.skipIf(skip)('queue groups on virtual topics', () => {
  it('two groups each get every message once, the first shared between its two members', async () => {
    const [a1, a2, b1, publisher] = [await transport(), await transport(), await transport(), await transport()];
    const topic = uniqueName('groups');
    const [ga, gb] = [group(), group()];
    const seenA: string[] = [];
    const seenB: string[] = [];
    await collect(a1, topic, ga, seenA);
    await collect(a2, topic, ga, seenA);
    await collect(b1, topic, gb, seenB);
    for (let i = 0; i < 20; i++) await publisher.publish(topic, utf8(String(i)));
    await until(() => seenA.length >= 20 && seenB.length >= 20, 5000);
    await sleep(200);
    expect(new Set(seenA).size).toBe(20);
    expect(seenA).toHaveLength(20);
    expect(seenB).toHaveLength(20);
  });

  it('a group on a wildcard pattern shares the messages of every matching topic, with their own subjects', async () => {
    const [m1, m2, publisher] = [await transport(), await transport(), await transport()];
    const base = uniqueName('wildgroup');
    const g = group();
    const seen: string[] = [];
    await collect(m1, `${base}.*`, g, seen);
    await collect(m2, `${base}.*`, g, seen);
    for (let i = 0; i < 10; i++) await publisher.publish(`${base}.${i % 2 ? 'odd' : 'even'}`, utf8(String(i)));
    await until(() => seen.length >= 10, 5000);
    await sleep(200);
    expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `${base}.${i % 2 ? 'odd' : 'even'}=${i}`).sort());
  });

  it('confirm profile: what is published while no member is there waits for the next member', async () => {
    const [member, publisher] = [await transport(true), await transport(true)];
    const topic = uniqueName('groupwait');
    const g = group();
    const first = await member.subscribe(topic, { queue: g });
    await first.unsubscribe();
    await publisher.publish(topic, utf8('while nobody was there'));
    const next = new Reader(await member.subscribe(topic, { queue: g }));
    expect((await next.take(1, 5000)).map((message) => str(message.data))).toEqual(['while nobody was there']);
  });

  it('a group name with a dot is refused with INVALID_ARGUMENT saying why', async () => {
    const t = await transport();
    await expect(t.subscribe(uniqueName('groups'), { queue: 'billing.eu' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/use "-" or "_" instead/) });
  });
});
