// A server of this test's own is killed under load and started again: the adapter reconnects with
// backoff, subscriptions and repliers resume, requests in flight at the cut fail with a clear
// CONNECTION error, and on JetStream every message whose publish resolved is delivered.

import { Reader, StatusLog, sleep, str, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { TestServer } from './server.js';

/** Waits for `condition`, checking every 10 ms, for at most `ms`; says whether it came true. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await sleep(10);
  return condition();
}

const fast = { reconnectDelay: { min: 50, max: 500 } };
let open: Transport[] = [];
async function transport(options: Parameters<typeof createNatsTransport>[0]): Promise<Transport> {
  const t = await createNatsTransport({ ...fast, ...options });
  open.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});

describe('core NATS: the server is killed under load and restarted', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start();
  });
  afterAll(() => server.stop());

  it('requests in flight fail with CONNECTION, then requests, replies and subscriptions work again', async () => {
    const replier = await transport({ servers: server.url });
    const client = await transport({ servers: server.url });
    const watched = new StatusLog(client);
    await replier.reply('faults.echo', async (request) => {
      await sleep(5); // a little work per request, as a real service does
      return request.data;
    });
    // A service that never answers: its requests are certainly in flight when the server dies.
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
          .request('faults.echo', utf8(String(i)), { timeout: 10_000 })
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
    await server.kill();
    expect(await until(() => (settled.get('CONNECTION') ?? 0) > 0, 10_000)).toBe(true);
    await server.restart();
    const okBefore = settled.get('ok') ?? 0;
    expect(await until(() => (settled.get('ok') ?? 0) > okBefore + 100, 15_000)).toBe(true);
    stopped = true;
    await load;

    // Every request settled (none hangs): answered, failed with CONNECTION at the cut (in flight)
    // or during the outage (refused at once), or NO_RESPONDERS in the moment after the restart
    // when the client is back before the replier; never left to time out.
    expect([...settled.values()].reduce((a, b) => a + b, 0)).toBe(sent);
    expect(settled.get('CONNECTION')).toBeGreaterThan(0);
    expect([...settled.keys()].filter((code) => !['ok', 'CONNECTION', 'NO_RESPONDERS'].includes(code))).toEqual([]);
    for (const error of await Promise.all(held)) {
      expect(error).toMatchObject({ code: 'CONNECTION', message: expect.stringMatching(/lost while the request was in flight/) });
    }

    // The subscription was restored on the new connection.
    await client.publish('faults.events', utf8('after the restart'));
    const got = await events.next(5000);
    expect(got && str(got.data)).toBe('after the restart');

    // A user watching status() saw the outage and the recovery, in order, with the cause.
    console.log(`core NATS fault: status events ${watched.types().join(' → ')}`);
    expect(watched.recovered()).toBe(true);
    expect(watched.events.find((event) => event.type === 'disconnected')).toMatchObject({ error: { code: 'CONNECTION' } });
  }, 60_000);
});

describe('JetStream: the server is killed while publishing and restarted', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start({ jetstream: true });
  });
  afterAll(() => server.stop());

  it('every message whose publish resolved is delivered (duplicates allowed, counted)', async () => {
    const jetstream = { stream: 'FAULTS', subjectPrefix: 'faults' };
    const publisher = await transport({ servers: server.url, jetstream });
    const subscriber = await transport({ servers: server.url, jetstream });
    const received = new Map<string, number>();
    await subscriber.subscribe('orders', {
      durable: 'faults-orders',
      handler: (message) => {
        const key = str(message.data);
        received.set(key, (received.get(key) ?? 0) + 1);
      },
    });

    const resolved = new Set<string>();
    let rejected = 0;
    const total = 3000;
    const load = (async () => {
      // Bounded: 3,000 messages, 20 publishes in flight at a time.
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < total; i++) {
        const key = String(i);
        const publish: Promise<void> = publisher
          .publish('orders', utf8(key))
          .then(
            () => void resolved.add(key),
            () => void rejected++,
          )
          .finally(() => inFlight.delete(publish));
        inFlight.add(publish);
        if (inFlight.size >= 20) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();

    expect(await until(() => resolved.size >= 500, 15_000)).toBe(true);
    await server.kill();
    await sleep(300); // down for a moment: publishes meanwhile wait for the reconnect or fail
    await server.restart();
    await load;

    const missing = () => [...resolved].filter((key) => !received.has(key));
    await until(() => missing().length === 0, 30_000);
    const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
    console.info(`JetStream faults: ${total} sent, ${resolved.size} resolved, ${rejected} rejected, ${received.size} received, ${duplicates} duplicates`);
    expect(resolved.size + rejected).toBe(total);
    expect(resolved.size).toBeGreaterThan(500);
    expect(missing()).toEqual([]);
  }, 90_000);
});
