// The connection cut under load, as a broker restart or a network failure would: every connection
// to our own vhost is closed by the broker. The transport reconnects with backoff, subscriptions
// resume, requests in flight fail with a clear error, and at-least-once loses nothing it confirmed.

import { StatusLog, checkBroker, str, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);
const CASE_TIMEOUT = 60_000;

/** Polls `probe` every 20 ms until it holds or `ms` pass. */
async function until(probe: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe.skipIf(skip)('amqp faults', () => {
  let place: TestVhost;
  const open: Transport[] = [];
  let counter = 0;
  const unique = (label: string) => `faults.${label}.${process.pid}.${++counter}`;

  beforeAll(async () => {
    place = await createVhost('faults');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  afterAll(() => place?.remove());

  /** A transport and the log of its status events. */
  async function transport(delivery: 'at-most-once' | 'at-least-once'): Promise<[Transport, StatusLog]> {
    const t = await createAmqpTransport({ url: place.url, delivery, reconnect: { initialDelayMs: 50, maxDelayMs: 1000 } });
    open.push(t);
    return [t, new StatusLog(t)];
  }

  it('requests in flight fail with CONNECTION when the connection is cut, and requests work again after the reconnect', async () => {
    const [replier] = await transport('at-most-once');
    const [requester, reports] = await transport('at-most-once');
    const service = unique('held');
    let held = 0;
    await replier.reply(service, async (request) => {
      if (str(request.data) === 'hold') {
        held++;
        return new Promise(() => undefined);
      }
      return request.data;
    });
    // Each outcome is taken as it happens, so no rejection waits unhandled for its turn.
    const outcomes = Array.from({ length: 5 }, () =>
      requester.request(service, utf8('hold'), { timeout: 5 * CASE_TIMEOUT }).then(() => 'answered', (error: unknown) => error),
    );
    expect(await until(() => held === 5, 10_000)).toBe(true);
    await place.cutConnections();
    for (const outcome of await Promise.all(outcomes)) {
      expect(outcome).toMatchObject({ code: 'CONNECTION', message: expect.stringMatching(/connection to RabbitMQ .* was lost/) });
    }
    expect(reports.events.find((event) => event.type === 'disconnected')).toMatchObject({ error: { code: 'CONNECTION', message: expect.stringMatching(/was lost; reconnecting/) } });
    // Both sides reconnect on their own; the service's queue is declared again by its replier.
    let answer: string | undefined;
    for (let attempt = 0; attempt < 100 && answer === undefined; attempt++) {
      answer = await requester.request(service, utf8('again'), { timeout: 1000 }).then(
        (reply) => str(reply.data),
        () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
      );
    }
    expect(answer).toBe('again');
    // A user watching status() saw the loss, the attempts and the recovery, in order.
    console.info(`amqp faults: status events ${reports.types().join(' → ')}`);
    expect(reports.recovered()).toBe(true);
  }, CASE_TIMEOUT);

  it('at-most-once: a subscription resumes after the connection is cut', async () => {
    const [subscriber, reports] = await transport('at-most-once');
    const [publisher] = await transport('at-most-once');
    const topic = unique('resume');
    const got: string[] = [];
    await subscriber.subscribe(topic, { handler: (m) => void got.push(str(m.data)) });
    await publisher.publish(topic, utf8('before'));
    expect(await until(() => got.includes('before'), 10_000)).toBe(true);
    await place.cutConnections();
    expect(await until(() => reports.events.some((event) => event.type === 'disconnected'), 10_000)).toBe(true);
    // Publishes fail while disconnected and may be lost right after (at-most-once); keep sending
    // until one arrives, a bounded number of times.
    for (let i = 0; i < 200 && !got.some((text) => text.startsWith('after')); i++) {
      await publisher.publish(topic, utf8(`after${i}`)).catch(() => undefined); // refused while reconnecting: try again
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(got.some((text) => text.startsWith('after'))).toBe(true);
  }, CASE_TIMEOUT);

  it('at-least-once: under load, every message whose publish resolved is delivered; duplicates are counted', async () => {
    const [subscriber, subscriberReports] = await transport('at-least-once');
    const [publisher, publisherReports] = await transport('at-least-once');
    const topic = unique('confirmed');
    const received = new Map<string, number>();
    await subscriber.subscribe(topic, {
      maxPending: 100,
      handler: (m) => void received.set(str(m.data), (received.get(str(m.data)) ?? 0) + 1),
    });

    // Publish from 20 senders until the cut is over and 300 more were confirmed after it, which
    // needs the reconnect; bounded in count and in time either way.
    const limit = 20_000;
    const confirmed = new Set<string>();
    let failed = 0;
    let cutDone = false;
    let confirmedAfterCut = 0;
    let cut: Promise<void> | undefined;
    let next = 0;
    const started = Date.now();
    const running = () => next < limit && Date.now() - started < 30_000 && !(cutDone && confirmedAfterCut >= 300);
    const sender = async () => {
      while (running()) {
        const text = String(next++);
        try {
          await publisher.publish(topic, utf8(text));
          confirmed.add(text);
          if (cutDone) confirmedAfterCut++;
          if (confirmed.size === 300) cut ??= place.cutConnections().then(() => void (cutDone = true));
        } catch {
          failed++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, sender));
    await cut;

    expect(subscriberReports.recovered()).toBe(true);
    expect(publisherReports.recovered()).toBe(true);
    expect(confirmedAfterCut).toBeGreaterThanOrEqual(300);
    await until(() => [...confirmed].every((text) => received.has(text)), 20_000);
    const missing = [...confirmed].filter((text) => !received.has(text));
    const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
    console.info(`amqp faults: ${next} sent, ${confirmed.size} confirmed, ${failed} failed, ${received.size} received, ${duplicates} duplicates`);
    expect(missing).toEqual([]);
  }, CASE_TIMEOUT);
});
