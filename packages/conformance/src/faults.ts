// The shared fault cases: the backend goes away under load and comes back. An adapter's test gives
// the hooks that do it to a backend of the test's own (a server it started, connections it can cut);
// the cases are the same for every adapter, and print their counts.

import type { Capabilities, Transport } from '@msg/core';
import { describe, expect } from 'vitest';
import { type Context, caseIf, it, supports } from './context.js';
import { Peers, Reader, StatusLog, sleep, str, uniqueName, utf8 } from './helpers.js';

export interface FaultHooks {
  /** What the fault is, for the cases' names: `the server is killed (SIGKILL) and restarted`. */
  fault: string;
  /** A new transport on the backend these hooks act on. */
  connect: () => Promise<Transport>;
  /** Takes the backend away abruptly: every connection of it drops. Resolves once it is gone. */
  down: () => Promise<void>;
  /** Brings it back on the same address with what it stored; resolves once it answers. */
  up: () => Promise<void>;
}

export interface FaultsUnderTest {
  name: string;
  capabilities: Capabilities;
  hooks: FaultHooks;
  /** When set, the cases show as skipped with this reason. */
  skip?: string | undefined;
}

/** Waits until `done()` holds, checking every 20 ms, for at most `ms`; says whether it came true. */
async function until(done: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

/** Counts outcomes by code: `ok`, `CONNECTION`, ... */
class Tally {
  readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  toString(): string {
    return JSON.stringify(Object.fromEntries(this.counts));
  }
}

const codeOf = (error: unknown) => (error as { code?: string })?.code ?? 'unknown';

export function describeFaults(target: FaultsUnderTest): void {
  const title = `${target.name} faults: ${target.hooks.fault}`;
  if (target.skip) {
    describe.skip(`${title} [SKIPPED: ${target.skip}]`, () => {
      it('faults', () => undefined);
    });
    return;
  }
  describe(title, () => {
    const caps = target.capabilities;
    const { hooks } = target;
    const ctx: Context = {
      name: target.name,
      capabilities: caps,
      peers: new Peers(hooks.connect, 30_000),
      settle: caps.timing.settleMs,
      deadline: caps.timing.surveyDeadlineMs,
      caseTimeout: 240_000,
      stressed: false,
      margin: 1000,
    };
    /** How long the backend may take to be back and every client with it. */
    const recoverMs = 60_000;

    caseIf(ctx, supports(ctx, 'request'), 'requests in flight fail with CONNECTION, not at their timeout; requests work again once it is back', 'does not declare request/reply', async () => {
      const replier = await ctx.peers.one();
      const client = await ctx.peers.one();
      const watched = new StatusLog(client);
      const echo = uniqueName('echo');
      const hold = uniqueName('hold');
      await replier.reply(echo, (request) => request.data);
      // A service that never answers: its requests are certainly in flight when the backend goes.
      await replier.reply(hold, () => new Promise(() => undefined));
      await client.request(echo, utf8('up'), { timeout: 10_000 });

      // Bounded load: at most 20,000 requests, 20 in flight, until the case says stop.
      const tally = new Tally();
      let stopped = false;
      const load = (async () => {
        const inFlight = new Set<Promise<void>>();
        for (let i = 0; i < 20_000 && !stopped; i++) {
          const request: Promise<void> = client
            .request(echo, utf8(String(i)), { timeout: 5000 })
            .then(
              () => tally.add('ok'),
              (error: unknown) => tally.add(codeOf(error)),
            )
            .finally(() => inFlight.delete(request));
          inFlight.add(request);
          if (inFlight.size >= 20) await Promise.race(inFlight);
          if (i % 20 === 0) await sleep(5);
        }
        await Promise.all(inFlight);
      })();
      expect(await until(() => tally.get('ok') >= 100, 20_000)).toBe(true);
      const held = Array.from({ length: 5 }, () => client.request(hold, utf8('?'), { timeout: 5 * recoverMs }).then(() => 'answered', (error: unknown) => error));
      // Requests on one connection are sent in order: once this one is answered, the held ones are there.
      await client.request(echo, utf8('the held requests have reached the replier'), { timeout: 10_000 });
      const downAt = Date.now();
      await hooks.down();
      for (const outcome of await Promise.all(held)) expect(outcome).toMatchObject({ code: 'CONNECTION' });
      const failedIn = Date.now() - downAt;
      await hooks.up();
      const okBefore = tally.get('ok');
      const backAt = Date.now();
      expect(await until(() => tally.get('ok') > okBefore + 50, recoverMs)).toBe(true);
      const resumedIn = Date.now() - backAt;
      stopped = true;
      await load;

      console.info(
        `${title}: held requests failed within ${failedIn} ms; ${tally.total} requests under load: ${tally}; ` +
          `answering again ${resumedIn} ms after it was back; status: ${watched.types().join(' → ')}`,
      );
      // Answered, failed with CONNECTION (in flight, or refused while away), or the brief window
      // after the return when the replier is not back yet (NO_RESPONDERS, or TIMEOUT where the
      // backend cannot tell). None hangs: every one settled.
      expect([...tally.counts.keys()].filter((code) => !['ok', 'CONNECTION', 'NO_RESPONDERS', 'TIMEOUT'].includes(code))).toEqual([]);
      expect(watched.recovered()).toBe(true);
    });

    caseIf(ctx, supports(ctx, 'publish'), 'subscriptions resume once it is back, and status() shows the way there', 'does not declare publish/subscribe', async () => {
      const subscriber = await ctx.peers.one();
      const publisher = await ctx.peers.one();
      const watched = new StatusLog(subscriber);
      const topic = uniqueName('resume');
      const reader = new Reader(await subscriber.subscribe(topic));
      await publisher.publish(topic, utf8('before'));
      expect((await reader.take(1, ctx.settle * 20)).map((m) => str(m.data))).toEqual(['before']);
      await hooks.down();
      await hooks.up();
      // At most once, a message may be lost in the moment after the return: publish until one
      // arrives. At least once, `before` may come again first (its ack went with the connection).
      let got: string | undefined;
      const backAt = Date.now();
      const resumed = await until(async () => {
        await publisher.publish(topic, utf8('after')).catch(() => undefined); // refused while reconnecting: again
        const message = await reader.next(100);
        got = message && str(message.data);
        return got === 'after';
      }, recoverMs);
      console.info(`${title}: the subscription received again ${Date.now() - backAt} ms after the return; status: ${watched.types().join(' → ')}`);
      expect(resumed).toBe(true);
      expect(got).toBe('after');
      expect(watched.recovered()).toBe(true);
      expect(watched.events.find((event) => event.type === 'disconnected')).toMatchObject({ error: { code: 'CONNECTION' } });
    });

    for (const at of [1 / 3, 1 / 2]) {
      const when = at === 1 / 3 ? 'a third' : 'a half';
      caseIf(
        ctx,
        supports(ctx, 'publish') && caps.delivery === 'at-least-once',
        `at-least-once: going away at ${when} of a 10,000-message run loses nothing whose publish resolved`,
        supports(ctx, 'publish') ? 'is at-most-once: what a restart loses is allowed' : 'does not declare publish/subscribe',
        async () => {
          const subscriber = await ctx.peers.one();
          const publisher = await ctx.peers.one();
          const topic = uniqueName('restart');
          const received = new Map<string, number>();
          await subscriber.subscribe(topic, {
            durable: caps.durable ? uniqueName('d').replaceAll('.', '_') : undefined,
            maxPending: 10_000,
            handler: (message) => {
              const body = str(message.data);
              received.set(body, (received.get(body) ?? 0) + 1);
            },
          });
          // 10,000 resolved publishes, the backend going away once that many are a third (or a
          // half) through; a publish refused meanwhile is counted, and the run goes on after it.
          const total = 10_000;
          const resolved: string[] = [];
          let rejected = 0;
          let next = 0;
          let outage: Promise<void> | undefined;
          const ends = Date.now() + 150_000; // bounded in time as well as in count
          while (resolved.length < total && Date.now() < ends) {
            const batch = Array.from({ length: Math.min(100, total - resolved.length) }, () => `m${next++}`);
            let refused = 0;
            await Promise.all(
              batch.map((body) =>
                publisher.publish(topic, utf8(body)).then(
                  () => void resolved.push(body),
                  () => void refused++,
                ),
              ),
            );
            rejected += refused;
            if (refused > 0) await sleep(50); // away: do not spin
            // Down exactly there; publishing goes on while it comes back.
            if (!outage && resolved.length >= total * at) {
              await hooks.down();
              outage = hooks.up();
            }
          }
          await outage;
          await until(() => resolved.every((body) => received.has(body)), recoverMs);
          const lost = resolved.filter((body) => !received.has(body));
          const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
          console.info(
            `${title}, at ${when}: ${next} published, ${resolved.length} resolved, ${rejected} rejected, ` +
              `${received.size} distinct received, ${duplicates} duplicates, ${lost.length} lost`,
          );
          expect(resolved.length).toBe(total);
          expect(lost).toEqual([]);
        },
      );
    }
  });
}
