// A subscriber that does not read must not make memory grow without bound. Core NATS: the client
// hands every message to the core's queue, which holds `maxPending` and drops the newest past it,
// counted in `dropped`. JetStream: the consumer's max_ack_pending (= `maxPending`) stops the server
// from delivering more until some are settled; the rest waits on the server, none is lost.

import { Reader, sleep, str, utf8 } from '@msg/conformance';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { TestServer } from './server.js';

async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await condition()) && Date.now() < deadline) await sleep(20);
  return condition();
}

let server: TestServer;
beforeAll(async () => {
  server = await TestServer.start({ jetstream: true });
});
afterAll(() => server.stop());

describe('core NATS', () => {
  it('a subscriber that does not read keeps maxPending messages and counts the rest as dropped', async () => {
    const subscriber = await createNatsTransport({ servers: server.url });
    const publisher = await createNatsTransport({ servers: server.url });
    try {
      const maxPending = 100;
      const sent = 20_000;
      const stream = await subscriber.subscribe('slow.core', { maxPending });
      const payload = new Uint8Array(1024);
      for (let i = 0; i < sent; i++) await publisher.publish('slow.core', i < maxPending ? utf8(String(i)) : payload);
      expect(await until(() => stream.dropped === sent - maxPending, 10_000)).toBe(true);

      // What was kept is the oldest: the newest were dropped.
      const reader = new Reader(stream);
      const kept = await reader.take(maxPending, 5000);
      expect(kept.map((m) => str(m.data))).toEqual(Array.from({ length: maxPending }, (_, i) => String(i)));
      expect(await reader.next(200)).toBeUndefined();
      expect(stream.dropped).toBe(sent - maxPending);
    } finally {
      await subscriber.close();
      await publisher.close();
    }
  }, 30_000);
});

describe('JetStream', () => {
  it('a subscriber that does not read holds max-ack-pending messages; the rest waits on the server and arrives later', async () => {
    const jetstream = { stream: 'SLOW', subjectPrefix: 'slow' };
    const subscriber = await createNatsTransport({ servers: server.url, jetstream });
    const publisher = await createNatsTransport({ servers: server.url, jetstream });
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const maxPending = 50;
      const sent = 500;
      const stream = await subscriber.subscribe('orders', { durable: 'slow-reader', maxPending });
      await Promise.all(Array.from({ length: sent }, (_, i) => publisher.publish('orders', utf8(String(i)))));

      const info = () => jsm.consumers.info('SLOW', 'slow-reader');
      expect(await until(async () => (await info()).num_ack_pending === maxPending, 10_000)).toBe(true);
      const held = await info();
      expect(held.num_ack_pending).toBe(maxPending);
      expect(held.num_pending).toBe(sent - maxPending);
      expect(held.config.max_ack_pending).toBe(maxPending);
      expect(stream.dropped).toBe(0);

      // Reading settles what was held, and the server delivers the rest: every message arrives.
      const reader = new Reader(stream);
      const got = new Set((await reader.take(sent, 5000)).map((m) => str(m.data)));
      expect(got.size).toBe(sent);
    } finally {
      await subscriber.close();
      await publisher.close();
      await nc.close();
    }
  }, 30_000);
});
