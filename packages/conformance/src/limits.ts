import type { Headers, Message, Transport } from '@msg/core';
import { describe, expect } from 'vitest';
import { type Context, caseIf, it, pair, supports } from './context.js';
import { Reader, uniqueName, utf8 } from './helpers.js';

const MiB = 1024 * 1024;

/** Sends `data` from b to a by request/reply if supported, else by publish/subscribe. */
async function roundTrip(ctx: Context, a: Transport, b: Transport, data: Uint8Array, headers?: Headers): Promise<Message> {
  if (supports(ctx, 'request')) {
    const service = uniqueName('limits');
    const replier = await a.reply(service, (request) => ({ data: request.data, headers: request.headers }));
    try {
      return await b.request(service, data, { headers, timeout: ctx.caseTimeout / 2 });
    } finally {
      await replier.unsubscribe();
    }
  }
  const topic = uniqueName('limits');
  const stream = await a.subscribe(topic);
  await b.publish(topic, data, { headers });
  const [message] = await new Reader(stream).take(1, ctx.caseTimeout / 2);
  await stream.unsubscribe();
  return message as Message;
}

export function limitCases(ctx: Context): void {
  describe('limits', () => {
    const max = ctx.capabilities.maxPayload;

    it('an empty payload round-trips', async () => {
      const [a, b] = await pair(ctx);
      const got = await roundTrip(ctx, a, b, new Uint8Array(0));
      expect(got.data.length).toBe(0);
    });

    it('a binary payload with all 256 byte values round-trips', async () => {
      const [a, b] = await pair(ctx);
      const all = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
      const got = await roundTrip(ctx, a, b, all);
      expect(Buffer.from(got.data).equals(Buffer.from(all))).toBe(true);
    });

    const size = Math.min(MiB, max);
    it(`a payload of ${size} bytes (${size === max ? 'exactly the declared maximum' : '1 MiB'}) round-trips`, async () => {
      const [a, b] = await pair(ctx);
      const big = Uint8Array.from({ length: size }, (_, i) => (i * 31) % 251);
      const got = await roundTrip(ctx, a, b, big);
      expect(Buffer.from(got.data).equals(Buffer.from(big))).toBe(true);
    }, ctx.caseTimeout);

    if (max > MiB) {
      caseIf(ctx, max <= 64 * MiB, `a payload of exactly the declared maximum (${max} bytes) round-trips`, 'declares a maximum over 64 MiB, more than this suite allocates', async () => {
        const [a, b] = await pair(ctx);
        const big = new Uint8Array(max).fill(7);
        const got = await roundTrip(ctx, a, b, big);
        expect(got.data.length).toBe(max);
      });
    }

    it('one byte over the maximum is PAYLOAD_TOO_LARGE, and the transport stays usable', async () => {
      const [a, b] = await pair(ctx);
      const tooBig = new Uint8Array(max + 1);
      const send = supports(ctx, 'request') ? b.request(uniqueName('big'), tooBig) : b.publish(uniqueName('big'), tooBig);
      await expect(send).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      const got = await roundTrip(ctx, a, b, utf8('still here'));
      expect(Buffer.from(got.data).toString()).toBe('still here');
    }, ctx.caseTimeout);

    if (ctx.capabilities.headers) {
      it('headers round-trip', async () => {
        const [a, b] = await pair(ctx);
        const headers = { 'content-type': 'application/json', trace: 'ü-✓', empty: '' };
        const got = await roundTrip(ctx, a, b, utf8('{}'), headers);
        expect(got.headers).toMatchObject(headers);
      });
    } else {
      caseIf(ctx, true, 'headers reject with UNSUPPORTED (none declared)', '', async () => {
        const t = await ctx.peers.one();
        const send = supports(ctx, 'request')
          ? t.request(uniqueName('h'), utf8('x'), { headers: { a: 'b' } })
          : t.publish(uniqueName('h'), utf8('x'), { headers: { a: 'b' } });
        await expect(send).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    it('reserved header names are rejected with INVALID_ARGUMENT', async () => {
      const t = await ctx.peers.one();
      const send = supports(ctx, 'request')
        ? t.request(uniqueName('h'), utf8('x'), { headers: { 'msg-error': 'forged' } })
        : t.publish(uniqueName('h'), utf8('x'), { headers: { 'msg-error': 'forged' } });
      await expect(send).rejects.toMatchObject({ code: ctx.capabilities.headers ? 'INVALID_ARGUMENT' : 'UNSUPPORTED' });
    });

    it('invalid names are rejected with INVALID_NAME saying why', async () => {
      const t = await ctx.peers.one();
      const bad = ['', 'a..b', 'a b', '.a', 'a.', 'orders.*', 'ünï'];
      for (const name of bad) {
        const attempt = supports(ctx, 'publish') ? t.publish(name, utf8('x')) : t.request(name, utf8('x'));
        await expect(attempt, `name ${JSON.stringify(name)}`).rejects.toMatchObject({ code: 'INVALID_NAME' });
      }
      if (supports(ctx, 'publish')) {
        await expect(t.subscribe('a.>.b')).rejects.toMatchObject({ code: 'INVALID_NAME', message: expect.stringMatching(/last token/) });
        await expect(t.subscribe('a b')).rejects.toMatchObject({ message: expect.stringMatching(/position 1/) });
      }
    });

    it('data that is not a Uint8Array is rejected with INVALID_ARGUMENT', async () => {
      const t = await ctx.peers.one();
      const notBytes = 'a string' as unknown as Uint8Array;
      const attempt = supports(ctx, 'publish') ? t.publish(uniqueName('x'), notBytes) : t.request(uniqueName('x'), notBytes);
      await expect(attempt).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
}
