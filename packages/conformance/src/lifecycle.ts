import { describe, expect } from 'vitest';
import { type Context, caseIf, it, pair, supports } from './context.js';
import type { StatusEvent } from '@msg/core';
import { Reader, sleep, uniqueName, utf8 } from './helpers.js';

/** Counts of live handles by kind (sockets, timers, ...), as Node reports them. */
function handleCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

export function lifecycleCases(ctx: Context): void {
  describe('lifecycle', () => {
    caseIf(ctx, supports(ctx, 'request'), 'close during in-flight requests rejects them with CLOSED, without hanging', 'does not declare request/reply', async () => {
      const [a, b] = await pair(ctx);
      const service = uniqueName('close');
      await a.reply(service, () => new Promise(() => undefined));
      const inFlight = Array.from({ length: 5 }, () => b.request(service, utf8('x'), { timeout: 60_000 }));
      // Observe the outcomes before closing: the requests reject as close begins, while a networked
      // transport's close is still releasing its sockets, and an unobserved rejection is reported.
      const outcomes = inFlight.map((request) => request.then(() => 'resolved', (error: unknown) => error));
      await sleep(ctx.settle);
      await b.close();
      for (const outcome of outcomes) expect(await outcome).toMatchObject({ code: 'CLOSED' });
    });

    caseIf(ctx, supports(ctx, 'publish'), 'a message whose publish resolved just before close is still delivered', 'does not declare publish/subscribe', async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('flush');
      const reader = new Reader(await a.subscribe(topic));
      await b.publish(topic, utf8('last words'));
      await b.close();
      const [message] = await reader.take(1, ctx.settle * 20);
      expect(Buffer.from(message?.data ?? []).toString()).toBe('last words');
    });

    it('every operation after close fails at once with CLOSED', async () => {
      const t = await ctx.peers.one();
      await t.close();
      expect(t.closed).toBe(true);
      const name = uniqueName('closed');
      await expect(t.request(name, utf8('x'))).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(t.reply(name, () => utf8('x'))).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(t.publish(name, utf8('x'))).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(t.subscribe(name)).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(t.survey(name, utf8('x'), { deadline: 1000 }).toArray()).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(t.respond(name, () => utf8('x'))).rejects.toMatchObject({ code: 'CLOSED' });
      await expect(t.join(name)).rejects.toMatchObject({ code: 'CLOSED' });
      expect(() => t.status()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    });

    it('status: close ends the iteration, with no event for what close itself ends', async () => {
      const t = await ctx.peers.one();
      const seen: StatusEvent[] = [];
      const iteration = (async () => {
        for await (const event of t.status()) seen.push(event);
      })();
      t.status({ handler: (event) => seen.push(event) });
      await t.close();
      await iteration;
      expect(seen.filter((event) => event.type === 'disconnected' || event.type === 'error')).toEqual([]);
    });

    it('status: stop() and the signal end a watch; a stream with a handler is not iterable', async () => {
      const t = await ctx.peers.one();
      const stopped = t.status();
      const pending = stopped[Symbol.asyncIterator]().next();
      stopped.stop();
      stopped.stop();
      expect(await pending).toEqual({ value: undefined, done: true });
      const controller = new AbortController();
      const aborted = t.status({ signal: controller.signal })[Symbol.asyncIterator]().next();
      controller.abort();
      expect(await aborted).toEqual({ value: undefined, done: true });
      const handled = t.status({ handler: () => undefined });
      expect(() => handled[Symbol.asyncIterator]()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      handled.stop();
    });

    it('close twice is fine', async () => {
      const t = await ctx.peers.one();
      await t.close();
      await expect(t.close()).resolves.toBeUndefined();
    });

    caseIf(ctx, supports(ctx, 'publish'), 'close ends every subscription iteration', 'does not declare publish/subscribe', async () => {
      const t = await ctx.peers.one();
      const reader = new Reader(await t.subscribe(uniqueName('end')));
      await t.close();
      expect(await reader.ends(ctx.settle * 20)).toBe(true);
    });

    caseIf(ctx, !ctx.stressed, 'no open handles are left after close', 'runs side by side with other cases (stress mode), whose handles it would count', async () => {
      await sleep(ctx.settle);
      const before = handleCounts();
      const [a, b] = await pair(ctx);
      const name = uniqueName('handles');
      if (supports(ctx, 'request')) {
        await a.reply(name, (r) => r.data);
        await b.request(name, utf8('x'));
      }
      if (supports(ctx, 'publish')) {
        const reader = new Reader(await a.subscribe(name));
        await b.publish(name, utf8('x'));
        await reader.take(1, ctx.settle * 20);
      }
      await a.close();
      await b.close();
      // Sockets and timers are released asynchronously after close resolves; give them a moment.
      let leaked: string[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        await sleep(50);
        const after = handleCounts();
        leaked = [...after].filter(([kind, n]) => n > (before.get(kind) ?? 0)).map(([kind, n]) => `${kind} +${n - (before.get(kind) ?? 0)}`);
        if (leaked.length === 0) break;
      }
      expect(leaked).toEqual([]);
    }, ctx.caseTimeout);
  });
}
