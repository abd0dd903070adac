// A redis-server of this test's own is killed, by its pid, and started again empty: close settles
// and leaves nothing behind whatever the connections are doing, and a Streams subscription gets
// its consumer group back and goes on receiving.

import { StatusLog } from '@msg/conformance';
import type { Message, Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisTransportOptions, createRedisTransport } from '../src/index.js';
import { eventually } from './admin.js';
import { TestServer } from './server.js';

const bytes = (value: string) => new TextEncoder().encode(value);
const text = (message: Message) => Buffer.from(message.data).toString();

/** Sockets and timers of this process: what an unclosed connection would leave behind. */
function handles(): { sockets: number; timers: number } {
  const active = process.getActiveResourcesInfo();
  return { sockets: active.filter((name) => name === 'TCPSocketWrap').length, timers: active.filter((name) => name === 'Timeout').length };
}

/** Nothing left open since `before` (the test runner's own timers may have ended meanwhile). */
function expectNoMoreHandles(before: { sockets: number; timers: number }): void {
  const now = handles();
  expect(now.sockets).toBe(before.sockets);
  expect(now.timers).toBeLessThanOrEqual(before.timers);
}

/** Resolves to the time `settling` took, or to undefined if it was still pending after `ms`. */
async function timeToSettle(settling: Promise<unknown>, ms: number): Promise<number | undefined> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const settled = await Promise.race([settling.then(() => Date.now() - started), late]);
  clearTimeout(timer);
  return settled;
}

let server: TestServer;
let open: Transport[] = [];
const options = (more: RedisTransportOptions = {}): RedisTransportOptions => ({ host: server.host, port: server.port, commandTimeoutMs: 1000, ...more });
async function transport(more: RedisTransportOptions = {}): Promise<Transport> {
  const t = await createRedisTransport(options(more));
  open.push(t);
  return t;
}

beforeAll(async () => {
  server = await TestServer.start();
});
afterEach(async () => {
  // Bounded, so that a close that hangs fails its own test rather than every hook after it.
  await timeToSettle(Promise.all(open.map((t) => t.close())), 5000);
  open = [];
});
afterAll(() => server.kill());

describe('close while the server is down', () => {
  for (const profile of ['pubsub', 'streams'] as const) {
    it(`${profile}: close settles at once and leaves no socket or timer, with a replier and a subscriber open`, async () => {
      await server.restart();
      const before = handles();
      const busy = await transport({ profile });
      const idle = await transport({ profile });
      await busy.reply('loss.echo', (request) => request.data);
      const messages = await busy.subscribe('loss.topic');
      expect(text(await busy.request('loss.echo', bytes('up')))).toBe('up');

      await server.kill();
      // The connections are now retrying: a publish waits for them, then fails.
      await expect(busy.publish('loss.topic', bytes('lost'))).rejects.toMatchObject({ code: 'CONNECTION' });
      const elapsed = await timeToSettle(Promise.all([busy.close(), idle.close()]), 3000);
      console.info(`${profile}: close settled ${elapsed === undefined ? 'not within 3 s' : `in ${elapsed} ms`} with the server down`);
      expect(elapsed).toBeDefined();
      expectNoMoreHandles(before);
      // The subscription ended with the transport.
      expect(await messages[Symbol.asyncIterator]().next()).toMatchObject({ done: true });
    });
  }

  it('a transport that never connected leaves no socket or timer', async () => {
    await server.kill();
    const before = handles();
    await expect(createRedisTransport(options())).rejects.toMatchObject({ code: 'CONNECTION' });
    expectNoMoreHandles(before);
  });
});

describe('the server restarts without its data', () => {
  it('a Streams subscription creates its consumer group again, says so in status(), and gets what is published after the restart', async () => {
    await server.restart();
    const publisher = await transport({ profile: 'streams' });
    const subscriber = await transport({ profile: 'streams' });
    const watched = new StatusLog(subscriber);
    {
      const got = { own: [] as string[], durable: [] as string[], queue: [] as string[] };
      await subscriber.subscribe('loss.stream', { handler: (message) => void got.own.push(text(message)) });
      await subscriber.subscribe('loss.stream', { durable: 'loss', handler: (message) => void got.durable.push(text(message)) });
      await subscriber.subscribe('loss.stream', { queue: 'loss', handler: (message) => void got.queue.push(text(message)) });
      await publisher.publish('loss.stream', bytes('before'));
      const all = (body: string) => Object.values(got).every((bodies) => bodies.includes(body));
      expect(await eventually(() => all('before'), 5000)).toBe(true);

      await server.kill();
      await server.restart();
      // Publish once the publisher is back; its connection reconnects with backoff.
      let published = '';
      let attempt = 0;
      expect(
        await eventually(async () => {
          const body = `after${++attempt}`;
          return publisher.publish('loss.stream', bytes(body)).then(
            () => ((published = body), true),
            () => false,
          );
        }, 10_000),
      ).toBe(true);
      expect(await eventually(() => all(published), 10_000)).toBe(true);
      // Each subscription's group (own, durable, queue) was found gone and made again, and said so.
      const lost = watched.events.filter((event) => event.type === 'error' && /consumer group .* was gone/.test(event.error.message));
      expect(new Set(lost.map((event) => event.connection)).size).toBe(1);
      expect(lost.length).toBe(3);
      console.info(`redis server loss: status events ${watched.types().join(' → ')}`);
      expect(watched.recovered()).toBe(true);
    }
  }, 30_000);
});
