import type { Message } from '@msg/core';
import { describe, expect } from 'vitest';
import { type Context, caseIf, it, pair, supports, trio } from './context.js';
import { Reader, str, uniqueName, utf8 } from './helpers.js';

const texts = (messages: Message[]) => messages.map((message) => str(message.data));

export function pubsubCases(ctx: Context): void {
  describe('pubsub', () => {
    const caps = ctx.capabilities;
    const on = supports(ctx, 'publish');
    const why = 'does not declare publish/subscribe';

    if (!on) {
      it('publish and subscribe reject with UNSUPPORTED', async () => {
        const t = await ctx.peers.one();
        await expect(t.publish(uniqueName('ps'), utf8('x'))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
        await expect(t.subscribe(uniqueName('ps'))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    caseIf(ctx, on, 'fan-out: 3 subscribers each receive every message', why, async () => {
      const [s1, s2, s3] = await trio(ctx);
      const publisher = await ctx.peers.one();
      const topic = uniqueName('ps');
      const readers = await Promise.all([s1, s2, s3].map(async (t) => new Reader(await t.subscribe(topic))));
      const sent = Array.from({ length: 10 }, (_, i) => `m${i}`);
      for (const text of sent) await publisher.publish(topic, utf8(text));
      for (const reader of readers) {
        const got = texts(await reader.take(sent.length, ctx.settle * 20));
        expect(got.sort()).toEqual([...sent].sort());
      }
    });

    caseIf(ctx, on, 'topic isolation: a subscriber receives only its topic', why, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('ps');
      const other = `${topic}x`;
      const reader = new Reader(await a.subscribe(topic));
      await b.publish(other, utf8('not for you'));
      await b.publish(topic, utf8('for you'));
      expect(texts(await reader.take(1, ctx.settle * 20))).toEqual(['for you']);
      expect(await reader.next(ctx.settle)).toBeUndefined();
    });

    if (caps.wildcards) {
      caseIf(ctx, on, 'wildcards: "*" matches one token and ">" one or more', why, async () => {
        const [a, b] = await pair(ctx);
        const base = uniqueName('wild');
        const star = new Reader(await a.subscribe(`${base}.*`));
        const rest = new Reader(await a.subscribe(`${base}.>`));
        await b.publish(base, utf8('bare'));
        await b.publish(`${base}.one`, utf8('one'));
        await b.publish(`${base}.one.two`, utf8('two'));
        const starred = await star.take(1, ctx.settle * 20);
        expect(texts(starred)).toEqual(['one']);
        expect(starred[0]?.subject).toBe(`${base}.one`);
        expect(texts(await rest.take(2, ctx.settle * 20)).sort()).toEqual(['one', 'two']);
        expect(await star.next(ctx.settle)).toBeUndefined();
        expect(await rest.next(ctx.settle)).toBeUndefined();
      });
    } else {
      caseIf(ctx, on, 'wildcard subscriptions reject with UNSUPPORTED (none declared)', why, async () => {
        const t = await ctx.peers.one();
        await expect(t.subscribe(`${uniqueName('wild')}.*`)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    caseIf(ctx, on && caps.ordering === 'per-publisher', 'order per publisher: 10,000 messages arrive in the order sent', on ? 'declares no ordering' : why, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('order');
      const count = 10_000;
      const stream = await a.subscribe(topic, { maxPending: count });
      const reader = new Reader(stream);
      const sends: Promise<void>[] = [];
      for (let i = 0; i < count; i++) sends.push(b.publish(topic, utf8(String(i))));
      await Promise.all(sends);
      const got: number[] = [];
      for (;;) {
        const message = await reader.next(ctx.settle * 20);
        if (!message) break;
        got.push(Number(str(message.data)));
        if (got.length === count) break;
      }
      for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1] as number);
      if (caps.delivery === 'at-least-once') expect(got.length).toBe(count);
      else {
        // At-most-once may drop under load, but it must say so: what was not received was dropped.
        if (got.length < count) console.warn(`${ctx.name}: ${count - got.length} of ${count} dropped (at-most-once)`);
        expect(got.length).toBeGreaterThan(0);
        expect(got.length + stream.dropped).toBeLessThanOrEqual(count);
      }
    });

    caseIf(ctx, on, 'unsubscribe stops delivery and ends the iteration', why, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('unsub');
      const leaving = await a.subscribe(topic);
      const leavingReader = new Reader(leaving);
      const witness = new Reader(await a.subscribe(topic));
      await b.publish(topic, utf8('first'));
      expect(texts(await leavingReader.take(1, ctx.settle * 20))).toEqual(['first']);
      await leaving.unsubscribe();
      await b.publish(topic, utf8('second'));
      await b.publish(topic, utf8('third'));
      expect(texts(await witness.take(3, ctx.settle * 20))).toEqual(['first', 'second', 'third']);
      expect(await leavingReader.ends(ctx.settle)).toBe(true);
    });

    caseIf(ctx, on, 'a subscriber added later receives only later messages', why, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('late');
      const witness = new Reader(await a.subscribe(topic));
      await b.publish(topic, utf8('before'));
      expect(texts(await witness.take(1, ctx.settle * 20))).toEqual(['before']);
      const late = new Reader(await a.subscribe(topic));
      await b.publish(topic, utf8('after'));
      expect(texts(await late.take(1, ctx.settle * 20))).toEqual(['after']);
      expect(await late.next(ctx.settle)).toBeUndefined();
    });

    caseIf(ctx, on, 'the callback form receives messages one at a time in order', why, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('cb');
      const got: string[] = [];
      let active = 0;
      let overlapped = false;
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      const subscription = await a.subscribe(topic, {
        handler: async (message) => {
          if (++active > 1) overlapped = true;
          await new Promise((resolve) => setTimeout(resolve, 1));
          got.push(str(message.data));
          active--;
          if (got.length === 5) done();
        },
      });
      for (let i = 0; i < 5; i++) await b.publish(topic, utf8(String(i)));
      await all;
      expect(overlapped).toBe(false);
      if (caps.ordering === 'per-publisher') expect(got).toEqual(['0', '1', '2', '3', '4']);
      else expect([...got].sort()).toEqual(['0', '1', '2', '3', '4']);
      expect(() => subscription[Symbol.asyncIterator]()).toThrow();
    });

    if (caps.delivery === 'at-least-once') {
      caseIf(ctx, on, 'at-least-once: a message whose handler throws is delivered again', why, async () => {
        const [a, b] = await pair(ctx);
        const topic = uniqueName('redeliver');
        const attempts: string[] = [];
        let done!: () => void;
        const redelivered = new Promise<void>((resolve) => (done = resolve));
        await a.subscribe(topic, {
          handler: (message) => {
            attempts.push(message.id);
            if (attempts.length === 1) throw new Error('not yet');
            done();
          },
          onError: () => undefined,
        });
        await b.publish(topic, utf8('again'));
        await redelivered;
        expect(attempts.length).toBe(2);
        expect(attempts[1]).toBe(attempts[0]);
      });
    } else {
      caseIf(ctx, on, 'at-most-once: a message whose handler throws is not delivered again, and the next one is', why, async () => {
        const [a, b] = await pair(ctx);
        const topic = uniqueName('once');
        const seen: string[] = [];
        const errors: unknown[] = [];
        let done!: () => void;
        const both = new Promise<void>((resolve) => (done = resolve));
        await a.subscribe(topic, {
          handler: (message) => {
            seen.push(str(message.data));
            if (seen.includes('first') && seen.includes('second')) done();
            if (str(message.data) === 'first') throw new Error('handler failed');
          },
          onError: (error) => errors.push(error),
        });
        await b.publish(topic, utf8('first'));
        await b.publish(topic, utf8('second'));
        await both;
        await new Promise((resolve) => setTimeout(resolve, ctx.settle));
        expect([...seen].sort()).toEqual(['first', 'second']);
        expect(errors).toHaveLength(1);
      });
    }

    if (caps.durable) {
      caseIf(ctx, on, 'a durable subscription receives what was published while it was away', why, async () => {
        const [a, b] = await pair(ctx);
        const topic = uniqueName('durable');
        const durable = uniqueName('d').replaceAll('.', '_');
        const first = await a.subscribe(topic, { durable });
        const firstReader = new Reader(first);
        await b.publish(topic, utf8('while here'));
        expect(texts(await firstReader.take(1, ctx.settle * 20))).toEqual(['while here']);
        await first.unsubscribe();
        await b.publish(topic, utf8('while away'));
        const again = new Reader(await a.subscribe(topic, { durable }));
        expect(texts(await again.take(1, ctx.settle * 20))).toEqual(['while away']);
      });
    } else {
      caseIf(ctx, on, 'durable subscriptions reject with UNSUPPORTED (none declared)', why, async () => {
        const t = await ctx.peers.one();
        await expect(t.subscribe(uniqueName('durable'), { durable: 'd' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    if (caps.replay) {
      caseIf(ctx, on, 'a new durable subscription with start "earliest" receives, in order, what was published before it existed', why, async () => {
        const [a, b] = await pair(ctx);
        const topic = uniqueName('replay');
        for (const text of ['one', 'two', 'three']) await b.publish(topic, utf8(text));
        const durable = uniqueName('r').replaceAll('.', '_');
        const subscription = await a.subscribe(topic, { durable, start: 'earliest' });
        const first = new Reader(subscription);
        expect(texts(await first.take(3, ctx.settle * 20))).toEqual(['one', 'two', 'three']);
        // A new durable name without it begins with what comes next.
        const fresh = new Reader(await a.subscribe(topic, { durable: `${durable}_new` }));
        await b.publish(topic, utf8('four'));
        expect(texts(await fresh.take(1, ctx.settle * 20))).toEqual(['four']);
        expect(texts(await first.take(1, ctx.settle * 20))).toEqual(['four']);
        await subscription.unsubscribe();
        // A durable name that exists resumes where it left off, whatever start says.
        await b.publish(topic, utf8('five'));
        const resumed = new Reader(await a.subscribe(topic, { durable, start: 'earliest' }));
        expect(texts(await resumed.take(1, ctx.settle * 20))).toEqual(['five']);
        expect(await resumed.next(ctx.settle)).toBeUndefined();
      });
      caseIf(ctx, on, 'start "earliest" without a durable name rejects with INVALID_ARGUMENT', why, async () => {
        const t = await ctx.peers.one();
        await expect(t.subscribe(uniqueName('replay'), { start: 'earliest' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('durable') });
      });
    } else {
      caseIf(ctx, on, 'start "earliest" rejects with UNSUPPORTED (no replay declared)', why, async () => {
        const t = await ctx.peers.one();
        await expect(t.subscribe(uniqueName('replay'), { durable: 'r', start: 'earliest' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }
    caseIf(ctx, on, 'a start other than "new" or "earliest" rejects with INVALID_ARGUMENT', why, async () => {
      const t = await ctx.peers.one();
      await expect(t.subscribe(uniqueName('replay'), { start: 'latest' as 'new' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    if (caps.queueGroups) {
      caseIf(ctx, on, 'a queue group shares the messages: each reaches one member, a plain subscriber gets all', why, async () => {
        const [m1, m2, b] = await trio(ctx);
        const topic = uniqueName('queue');
        const group = uniqueName('g').replaceAll('.', '_');
        const plain = new Reader(await b.subscribe(topic));
        const seen: string[][] = [[], []];
        await m1.subscribe(topic, { queue: group, handler: (m) => void seen[0]?.push(str(m.data)) });
        await m2.subscribe(topic, { queue: group, handler: (m) => void seen[1]?.push(str(m.data)) });
        const count = 20;
        for (let i = 0; i < count; i++) await b.publish(topic, utf8(String(i)));
        expect((await plain.take(count, ctx.settle * 20)).length).toBe(count);
        const deadline = Date.now() + ctx.settle * 40;
        while ((seen[0]?.length ?? 0) + (seen[1]?.length ?? 0) < count && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await new Promise((resolve) => setTimeout(resolve, ctx.settle));
        const all = [...(seen[0] ?? []), ...(seen[1] ?? [])];
        expect(all.length).toBe(count);
        expect(new Set(all).size).toBe(count);
      });
    } else {
      caseIf(ctx, on, 'queue groups reject with UNSUPPORTED (none declared)', why, async () => {
        const t = await ctx.peers.one();
        await expect(t.subscribe(uniqueName('queue'), { queue: 'g' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }
  });
}
