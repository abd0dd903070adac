import { isMsgError } from '@msg/core';
import { describe, expect } from 'vitest';
import { type Context, caseIf, it, pair, supports, trio } from './context.js';
import { sleep, str, uniqueName, utf8 } from './helpers.js';

export function reqrepCases(ctx: Context): void {
  describe('reqrep', () => {
    const on = supports(ctx, 'request');
    const why = 'does not declare request/reply';

    if (!on) {
      it('request and reply reject with UNSUPPORTED', async () => {
        const t = await ctx.peers.one();
        await expect(t.request(uniqueName('rr'), utf8('x'))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
        await expect(t.reply(uniqueName('rr'), () => utf8('x'))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    caseIf(ctx, on, 'round trip', why, async () => {
      const [a, b] = await pair(ctx);
      const service = uniqueName('rr');
      await a.reply(service, (request) => utf8(`echo:${str(request.data)}`));
      const reply = await b.request(service, utf8('hello'));
      expect(str(reply.data)).toBe('echo:hello');
      expect(reply.subject).toBe(service);
    });

    caseIf(ctx, on, '1,000 concurrent requests each get their own reply', why, async () => {
      const [a, b] = await pair(ctx);
      const service = uniqueName('rr');
      await a.reply(service, (request) => utf8(`re:${str(request.data)}`));
      const replies = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => b.request(service, utf8(String(i)), { timeout: ctx.caseTimeout / 2 })),
      );
      replies.forEach((reply, i) => expect(str(reply.data)).toBe(`re:${i}`));
    });

    caseIf(ctx, on, 'no replier: fails with TIMEOUT or NO_RESPONDERS within the timeout and a small margin', why, async () => {
      const t = await ctx.peers.one();
      const timeout = 500;
      const started = performance.now();
      const error = await t.request(uniqueName('nobody'), utf8('?'), { timeout }).catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(isMsgError(error)).toBe(true);
      expect(['TIMEOUT', 'NO_RESPONDERS']).toContain((error as { code: string }).code);
      expect(elapsed).toBeLessThan(timeout + ctx.margin);
    });

    caseIf(ctx, on, 'a replier that throws rejects the requester with REMOTE and its message', why, async () => {
      const [a, b] = await pair(ctx);
      const service = uniqueName('rr');
      await a.reply(service, () => {
        throw new Error('out of stock: item 42');
      });
      await expect(b.request(service, utf8('buy'))).rejects.toMatchObject({ code: 'REMOTE', message: 'out of stock: item 42' });
    });

    caseIf(ctx, on, 'two repliers share the load: each request reaches exactly one', why, async () => {
      const [a, a2, b] = await trio(ctx);
      const service = uniqueName('rr');
      const seen = { one: [] as string[], two: [] as string[] };
      await a.reply(service, (request) => {
        seen.one.push(str(request.data));
        return utf8('one');
      });
      await a2.reply(service, (request) => {
        seen.two.push(str(request.data));
        return utf8('two');
      });
      const count = 40;
      const replies = await Promise.all(Array.from({ length: count }, (_, i) => b.request(service, utf8(String(i)))));
      expect(seen.one.length + seen.two.length).toBe(count);
      expect(new Set([...seen.one, ...seen.two]).size).toBe(count);
      expect(seen.one.length).toBeGreaterThan(0);
      expect(seen.two.length).toBeGreaterThan(0);
      const answered = replies.map((reply) => str(reply.data));
      expect(answered.filter((who) => who === 'one').length).toBe(seen.one.length);
    });

    caseIf(ctx, on, 'a reply after the requester timed out is dropped without error', why, async () => {
      const [a, b] = await pair(ctx);
      const service = uniqueName('rr');
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      await a.reply(service, async (request) => {
        if (str(request.data) === 'slow') await released;
        return utf8(`late:${str(request.data)}`);
      });
      await expect(b.request(service, utf8('slow'), { timeout: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
      release();
      await sleep(ctx.settle);
      const next = await b.request(service, utf8('fast'));
      expect(str(next.data)).toBe('late:fast');
    });

    caseIf(ctx, on, "a replier whose handler hangs still serves the requests after it once the hung request's deadline has passed", why, async () => {
      const [a, b, c] = await trio(ctx);
      const service = uniqueName('rr');
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let hung = 0;
      await a.reply(service, async (request) => {
        if (str(request.data) === 'hang') {
          hung++;
          await released;
        }
        return utf8(`re:${str(request.data)}`);
      });
      try {
        // Long enough that the request reaches the replier before its deadline on every backend.
        const timeout = Math.max(1000, ctx.settle * 2);
        const hanging = b.request(service, utf8('hang'), { timeout }).catch((error: unknown) => error);
        // Sent while the handler hangs, from the same requester and from another: both wait behind it.
        const normal = ctx.caseTimeout / 3;
        const behind = [b.request(service, utf8('behind-b'), { timeout: normal }), c.request(service, utf8('behind-c'), { timeout: normal })];
        expect(await hanging).toMatchObject({ code: 'TIMEOUT' });
        expect((await Promise.all(behind)).map((reply) => str(reply.data))).toEqual(['re:behind-b', 're:behind-c']);
        const after = await c.request(service, utf8('after'), { timeout: normal });
        expect(str(after.data)).toBe('re:after');
        expect(hung).toBe(1);
      } finally {
        release();
      }
    });

    caseIf(ctx, on, 'aborting the signal rejects the request with ABORTED', why, async () => {
      const [a, b] = await pair(ctx);
      const service = uniqueName('rr');
      await a.reply(service, () => new Promise(() => undefined));
      const controller = new AbortController();
      const pending = b.request(service, utf8('x'), { signal: controller.signal, timeout: 30_000 });
      setTimeout(() => controller.abort(), 50);
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    });

    caseIf(ctx, on, 'headers travel with the request and the reply', ctx.capabilities.headers ? why : 'does not declare headers', async () => {
      const [a, b] = await pair(ctx);
      const service = uniqueName('rr');
      await a.reply(service, (request) => ({ data: request.data, headers: { seen: request.headers.trace ?? 'none' } }));
      const reply = await b.request(service, utf8('x'), { headers: { trace: 'abc-123' } });
      expect(reply.headers.seen).toBe('abc-123');
    });
  });
}
