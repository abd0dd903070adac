// An ActiveMQ of this test's own is killed under load (by its pid) and started again: the adapter
// reconnects, subscriptions and repliers resume, requests in flight at the cut fail with a clear
// CONNECTION error, and in the at-least-once profile every message whose publish resolved is
// delivered, the broker having been killed without a chance to write anything more.

import { Reader, sleep, str, utf8 } from '@msg/conformance';
import type { MsgError, Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqp1Transport } from '../src/index.js';
import { TestBroker, ownBrokerMissing } from './broker.js';

const skip = await ownBrokerMissing();

/** Waits for `condition`, checking every 10 ms, for at most `ms`; says whether it came true. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await sleep(10);
  return condition();
}

const background: MsgError[] = [];
let open: Transport[] = [];
async function transport(url: string, confirm = false): Promise<Transport> {
  const t = await createAmqp1Transport({ url, confirm, reconnectPeriod: 100, onError: (error) => background.push(error) });
  open.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});

describe.skipIf(skip)('at most once: the broker is killed under load and restarted', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await TestBroker.start();
  }, 120_000);
  afterAll(() => broker?.stop(), 60_000);

  it('requests in flight fail with CONNECTION, then requests, replies and subscriptions work again', async () => {
    const replier = await transport(broker.url);
    const client = await transport(broker.url);
    await replier.reply('faults.echo', async (request) => {
      await sleep(2); // a little work per request, as a real service does
      return request.data;
    });
    // A service that never answers: its requests are certainly in flight when the broker dies.
    await replier.reply('faults.hold', () => new Promise(() => undefined));
    const events = new Reader(await replier.subscribe('faults.events'));

    const settled = new Map<string, number>();
    let sent = 0;
    let stopped = false;
    const load = (async () => {
      // Bounded: at most 20,000 requests, 50 in flight, paced a little (more while they fail), until the test says stop.
      const inFlight = new Set<Promise<void>>();
      let failures = 0;
      for (let i = 0; i < 20_000 && !stopped; i++) {
        if ((settled.get('CONNECTION') ?? 0) > failures) {
          failures = settled.get('CONNECTION') ?? 0;
          await sleep(20);
        }
        sent++;
        const request: Promise<void> = client
          .request('faults.echo', utf8(String(i)), { timeout: 2000 })
          .then(
            () => void settled.set('ok', (settled.get('ok') ?? 0) + 1),
            (error: { code?: string }) => {
              const code = error.code ?? 'unknown';
              settled.set(code, (settled.get(code) ?? 0) + 1);
            },
          )
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
        if (inFlight.size >= 50) await Promise.race(inFlight);
        if (i % 50 === 0) await sleep(5);
      }
      await Promise.all(inFlight);
    })();

    expect(await until(() => (settled.get('ok') ?? 0) >= 200, 15_000)).toBe(true);
    const held = Array.from({ length: 10 }, () => client.request('faults.hold', utf8('?'), { timeout: 60_000 }).catch((e: unknown) => e));
    await client.request('faults.echo', utf8('the held requests have reached the replier'));
    await broker.kill('SIGKILL');
    expect(await until(() => (settled.get('CONNECTION') ?? 0) > 0, 10_000)).toBe(true);
    await broker.restart();
    const okBefore = settled.get('ok') ?? 0;
    expect(await until(() => (settled.get('ok') ?? 0) > okBefore + 100, 30_000)).toBe(true);
    stopped = true;
    await load;

    // Every request settled (none hangs): answered, failed with CONNECTION at the cut (in flight) or
    // during the outage (refused at once), or TIMEOUT for one sent in the moment after the restart
    // when the client was back before the replier had attached again (a queue holds it for nobody).
    console.info(`AMQP 1.0 at-most-once faults: ${sent} requests, ${JSON.stringify(Object.fromEntries(settled))}`);
    expect([...settled.values()].reduce((a, b) => a + b, 0)).toBe(sent);
    expect(settled.get('CONNECTION')).toBeGreaterThan(0);
    expect([...settled.keys()].filter((code) => !['ok', 'CONNECTION', 'TIMEOUT'].includes(code))).toEqual([]);
    for (const error of await Promise.all(held)) {
      expect(error).toMatchObject({ code: 'CONNECTION', message: expect.stringMatching(/lost while the request was in flight/) });
    }
    expect(background.some((error) => /was lost/.test(error.message))).toBe(true);

    // The subscription was attached again on the new connection (at most once: publish until one arrives).
    let got: string | undefined;
    for (let attempt = 0; attempt < 50 && got === undefined; attempt++) {
      await client.publish('faults.events', utf8('after the restart'));
      const message = await events.next(100);
      got = message && str(message.data);
    }
    expect(got).toBe('after the restart');
  }, 120_000);
});

describe.skipIf(skip)('at least once: the broker is killed while publishing and started again', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await TestBroker.start();
  }, 120_000);
  afterAll(() => broker?.stop(), 60_000);

  it('every message whose publish resolved is delivered (duplicates allowed, counted)', async () => {
    const publisher = await transport(broker.url, true);
    const subscriber = await transport(broker.url, true);
    const received = new Map<string, number>();
    await subscriber.subscribe('faults.orders', {
      handler: (message) => {
        const key = str(message.data);
        received.set(key, (received.get(key) ?? 0) + 1);
      },
    });
    const durable = new Map<string, number>();
    await subscriber.subscribe('faults.orders', {
      durable: `faults-durable-${process.pid}`,
      handler: (message) => {
        const key = str(message.data);
        durable.set(key, (durable.get(key) ?? 0) + 1);
      },
    });

    const resolved = new Set<string>();
    const rejected = new Map<string, number>();
    const total = 3000;
    const load = (async () => {
      // Bounded: 3,000 messages, 20 publishes in flight at a time; while publishes fail (the broker
      // is away), it slows down, so that publishing goes on after the restart.
      const inFlight = new Set<Promise<void>>();
      let failures = 0;
      for (let i = 0; i < total; i++) {
        const failedNow = [...rejected.values()].reduce((a, b) => a + b, 0);
        if (failedNow > failures) {
          failures = failedNow;
          await sleep(50);
        }
        const key = String(i);
        const publish: Promise<void> = publisher
          .publish('faults.orders', utf8(key))
          .then(
            () => void resolved.add(key),
            (error: { code?: string }) => void rejected.set(error.code ?? 'unknown', (rejected.get(error.code ?? 'unknown') ?? 0) + 1),
          )
          .finally(() => inFlight.delete(publish));
        inFlight.add(publish);
        if (inFlight.size >= 20) await Promise.race(inFlight);
        if (i % 20 === 0) await sleep(1);
      }
      await Promise.all(inFlight);
    })();

    expect(await until(() => resolved.size >= 500, 20_000)).toBe(true);
    await broker.kill('SIGKILL');
    await broker.restart();
    await load;

    const missing = (seen: Map<string, number>) => [...resolved].filter((key) => !seen.has(key));
    await until(() => missing(received).length === 0 && missing(durable).length === 0, 30_000);
    const duplicates = (seen: Map<string, number>) => [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
    const failed = [...rejected.values()].reduce((a, b) => a + b, 0);
    console.info(
      `AMQP 1.0 at-least-once faults: ${total} sent, ${resolved.size} resolved, ${failed} rejected ${JSON.stringify(Object.fromEntries(rejected))}; ` +
        `plain subscription: ${received.size} received, ${duplicates(received)} duplicates, ${missing(received).length} missing; ` +
        `durable subscription: ${durable.size} received, ${duplicates(durable)} duplicates, ${missing(durable).length} missing`,
    );
    expect(resolved.size + failed).toBe(total);
    expect(resolved.size).toBeGreaterThan(500);
    // Publishing went on after the restart, on the same transport.
    expect(resolved.has(String(total - 1))).toBe(true);
    expect([...rejected.keys()].filter((code) => code !== 'CONNECTION')).toEqual([]);
    expect(missing(received)).toEqual([]);
    expect(missing(durable)).toEqual([]);
  }, 120_000);
});

describe.skipIf(skip)('closing while the broker is away', () => {
  it('closes at once and leaves no reconnect behind', async () => {
    const broker = await TestBroker.start();
    try {
      const count = (kind: string) => process.getActiveResourcesInfo().filter((resource) => resource === kind).length;
      const [sockets, timers] = [count('TCPSocketWrap'), count('Timeout')];
      // Longer than the broker takes to start again: a reconnect left scheduled would find it up.
      const reconnectPeriod = 8000;
      const t = await createAmqp1Transport({ url: broker.url, reconnectPeriod, onError: () => undefined });
      await broker.kill('SIGKILL');
      const lost = Date.now();
      await sleep(300); // the client has seen the loss and scheduled its next attempt
      await t.close();
      await broker.restart();
      await sleep(Math.max(0, lost + reconnectPeriod + 1000 - Date.now()));
      expect(count('TCPSocketWrap')).toBeLessThanOrEqual(sockets);
      expect(count('Timeout')).toBeLessThanOrEqual(timers);
    } finally {
      await broker.stop();
    }
  }, 120_000);
});
