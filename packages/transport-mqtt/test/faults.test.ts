// A mosquitto of this test's own is stopped under load (by its pid) and started again: the adapter
// reconnects, subscriptions and repliers resume, requests in flight at the cut fail with a clear
// CONNECTION error, and in the QoS 1 profile every message whose publish resolved is delivered.

import { Reader, StatusLog, sleep, str, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../src/index.js';
import { TestBroker } from './server.js';

/** Waits for `condition`, checking every 10 ms, for at most `ms`; says whether it came true. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await sleep(10);
  return condition();
}

let open: Transport[] = [];
async function transport(url: string, qos: 0 | 1 = 0): Promise<Transport> {
  const t = await createMqttTransport({ url, qos, reconnectPeriod: 100 });
  open.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});

describe('QoS 0: the broker is killed under load and restarted', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await TestBroker.start();
  });
  afterAll(() => broker.stop());

  it('requests in flight fail with CONNECTION, then requests, replies and subscriptions work again', async () => {
    const replier = await transport(broker.url);
    const client = await transport(broker.url);
    const watched = new StatusLog(client);
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
      // Bounded: at most 20,000 requests, 50 in flight, paced a little, until the test says stop.
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < 20_000 && !stopped; i++) {
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

    expect(await until(() => (settled.get('ok') ?? 0) >= 200, 10_000)).toBe(true);
    const held = Array.from({ length: 10 }, () => client.request('faults.hold', utf8('?'), { timeout: 30_000 }).catch((e: unknown) => e));
    await client.request('faults.echo', utf8('the held requests have reached the replier'));
    await broker.kill('SIGKILL');
    expect(await until(() => (settled.get('CONNECTION') ?? 0) > 0, 10_000)).toBe(true);
    await broker.restart();
    const okBefore = settled.get('ok') ?? 0;
    expect(await until(() => (settled.get('ok') ?? 0) > okBefore + 100, 15_000)).toBe(true);
    stopped = true;
    await load;

    // Every request settled (none hangs): answered, failed with CONNECTION at the cut (in flight) or
    // during the outage (refused at once), or TIMEOUT for one sent in the moment after the restart
    // when the client was back before the replier had subscribed again (MQTT cannot tell it has no
    // replier, so it waits for its timeout).
    console.info(`MQTT QoS 0 faults: ${sent} requests, ${JSON.stringify(Object.fromEntries(settled))}`);
    expect([...settled.values()].reduce((a, b) => a + b, 0)).toBe(sent);
    expect(settled.get('CONNECTION')).toBeGreaterThan(0);
    expect([...settled.keys()].filter((code) => !['ok', 'CONNECTION', 'TIMEOUT'].includes(code))).toEqual([]);
    for (const error of await Promise.all(held)) {
      expect(error).toMatchObject({ code: 'CONNECTION', message: expect.stringMatching(/lost while the request was in flight/) });
    }

    // The subscription was restored on the new connection (at most once: publish until one arrives).
    let got: string | undefined;
    for (let attempt = 0; attempt < 50 && got === undefined; attempt++) {
      await client.publish('faults.events', utf8('after the restart'));
      const message = await events.next(100);
      got = message && str(message.data);
    }
    expect(got).toBe('after the restart');

    // A user watching status() saw the outage and the recovery, in order, with the cause.
    console.info(`MQTT QoS 0 faults: status events ${watched.types().join(' → ')}`);
    expect(watched.recovered()).toBe(true);
    expect(watched.events.find((event) => event.type === 'disconnected')).toMatchObject({ error: { code: 'CONNECTION' } });
  }, 60_000);
});

describe('QoS 1: the broker is stopped while publishing and started again, with persistence', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await TestBroker.start({ persistence: true });
  });
  afterAll(() => broker.stop());

  it('every message whose publish resolved is delivered (duplicates allowed, counted)', async () => {
    const publisher = await transport(broker.url, 1);
    const subscriber = await transport(broker.url, 1);
    const received = new Map<string, number>();
    await subscriber.subscribe('faults.orders', {
      handler: (message) => {
        const key = str(message.data);
        received.set(key, (received.get(key) ?? 0) + 1);
      },
    });

    const resolved = new Set<string>();
    const rejected = new Map<string, number>();
    const total = 3000;
    const load = (async () => {
      // Bounded: 3,000 messages, 20 publishes in flight at a time.
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < total; i++) {
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

    expect(await until(() => resolved.size >= 500, 15_000)).toBe(true);
    await broker.kill('SIGTERM'); // mosquitto writes its persistence on the way out
    await broker.restart();
    await load;

    const missing = () => [...resolved].filter((key) => !received.has(key));
    await until(() => missing().length === 0, 30_000);
    const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
    const failed = [...rejected.values()].reduce((a, b) => a + b, 0);
    console.info(
      `MQTT QoS 1 faults: ${total} sent, ${resolved.size} resolved, ${failed} rejected ${JSON.stringify(Object.fromEntries(rejected))}, ${received.size} received, ${duplicates} duplicates, ${missing().length} missing`,
    );
    expect(resolved.size + failed).toBe(total);
    expect(resolved.size).toBeGreaterThan(500);
    expect([...rejected.keys()].filter((code) => code !== 'CONNECTION')).toEqual([]);
    expect(missing()).toEqual([]);
  }, 90_000);
});
