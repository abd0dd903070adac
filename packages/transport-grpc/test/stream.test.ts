import type { Message } from '@msg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcOptions, type GrpcTransport, createGrpcTransport } from '../src/index.js';

const utf8 = (value: string) => Buffer.from(value);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

let host: GrpcTransport;
const open: GrpcTransport[] = [];
beforeAll(async () => {
  host = await createGrpcTransport({ listen: '127.0.0.1:0' });
});
afterAll(async () => {
  for (const transport of open) await transport.close();
  await host.close();
});

async function client(options: Partial<GrpcOptions> = {}): Promise<GrpcTransport> {
  const transport = await createGrpcTransport({ connect: host.address, ...options });
  open.push(transport);
  return transport;
}

/**
 * Serves `service` so that the replies become ready in the reverse order of the requests: every
 * handler waits until `count` requests have arrived, then they finish last first.
 */
async function replyInReverse(replier: GrpcTransport, service: string, count: number): Promise<void> {
  const gates: (() => void)[] = [];
  await replier.reply(service, async (request) => {
    const at = Number(text(request.data));
    await new Promise<void>((resolve) => {
      gates[at] = resolve;
      if (gates.filter(Boolean).length < count) return;
      // After this handler's own await is in place, so that every gate opens in the same way.
      setImmediate(() => {
        for (let i = count - 1; i >= 0; i--) gates[i]?.();
      });
    });
    return request.data;
  });
}

async function resolutionOrder(requester: GrpcTransport, service: string, count: number): Promise<number[]> {
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: count }, (_, i) => requester.request(service, utf8(String(i))).then((reply: Message) => order.push(Number(text(reply.data))))),
  );
  return order;
}

describe('stream', () => {
  it('ordered: a replier sends its replies in the order the requests arrived', async () => {
    const replier = await client({ ordered: true });
    const requester = await client();
    await replyInReverse(replier, 'order.on', 8);
    expect(await resolutionOrder(requester, 'order.on', 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('unordered (the default): a reply leaves as soon as it is ready', async () => {
    const replier = await client();
    const requester = await client();
    await replyInReverse(replier, 'order.off', 8);
    expect(await resolutionOrder(requester, 'order.off', 8)).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('the window bounds the requests in flight; the rest wait their turn and all complete', async () => {
    const replier = await client();
    const requester = await client({ window: 3 });
    let active = 0;
    let most = 0;
    await replier.reply('window.svc', async (request) => {
      most = Math.max(most, ++active);
      await new Promise((resolve) => setImmediate(resolve));
      active--;
      return request.data;
    });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => requester.request('window.svc', utf8(String(i)))));
    expect(replies.map((reply) => text(reply.data))).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(most).toBeLessThanOrEqual(3);
  });

  it('a full outbox makes publishers wait their turn: nothing is lost and the order holds', async () => {
    const subscriber = await client();
    const publisher = await client({ maxQueued: 4 });
    const reader = (await subscriber.subscribe('outbox.order', { maxPending: 10_000 }))[Symbol.asyncIterator]();
    const count = 2000;
    // All at once: far more than the outbox holds, so most wait for room, then for 'drain'.
    await Promise.all(Array.from({ length: count }, (_, i) => publisher.publish('outbox.order', utf8(String(i)))));
    for (let i = 0; i < count; i++) expect(text((await reader.next()).value.data)).toBe(String(i));
  });

  it('an aborted request is cancelled at the host: its late reply does not disturb the next one', async () => {
    const replier = await client();
    const requester = await client({ window: 1 });
    let release!: () => void;
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    await replier.reply('cancel.svc', async (request) => {
      if (text(request.data) === 'hold') {
        await new Promise<void>((resolve) => {
          release = resolve;
          arrived();
        });
      }
      return request.data;
    });
    const controller = new AbortController();
    const held = requester.request('cancel.svc', utf8('hold'), { signal: controller.signal });
    await reached;
    controller.abort();
    await expect(held).rejects.toMatchObject({ code: 'ABORTED' });
    release();
    // The window of one is free again, and the reply that comes back is this request's own.
    expect(text((await requester.request('cancel.svc', utf8('next'))).data)).toBe('next');
  });
});

describe('unary requests', () => {
  it('round-trip, with headers and a handler error as REMOTE', async () => {
    const replier = await client();
    const requester = await client({ unary: true });
    await replier.reply('unary.echo', (request) => {
      if (text(request.data) === 'fail') throw Object.assign(new Error('no such item'), { code: 'E_ITEM' });
      return { data: request.data, headers: { seen: request.headers.trace ?? '' } };
    });
    const reply = await requester.request('unary.echo', utf8('x'), { headers: { trace: 't-1' } });
    expect(text(reply.data)).toBe('x');
    expect(reply.headers.seen).toBe('t-1');
    await expect(requester.request('unary.echo', utf8('fail'))).rejects.toMatchObject({ code: 'REMOTE', message: 'no such item', remoteCode: 'E_ITEM' });
  });

  it('the timeout is the call deadline: a silent replier gives TIMEOUT', async () => {
    const replier = await client();
    const requester = await client({ unary: true });
    await replier.reply('unary.silent', () => new Promise(() => undefined));
    await expect(requester.request('unary.silent', utf8('?'), { timeout: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('aborting the signal cancels the call with ABORTED', async () => {
    const replier = await client();
    const requester = await client({ unary: true });
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    await replier.reply('unary.hold', () => {
      arrived();
      return new Promise(() => undefined);
    });
    const controller = new AbortController();
    const pending = requester.request('unary.hold', utf8('?'), { signal: controller.signal, timeout: 30_000 });
    await reached;
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('nobody serving the service is NO_RESPONDERS', async () => {
    const requester = await client({ unary: true });
    await expect(requester.request('unary.nobody', utf8('?'))).rejects.toMatchObject({ code: 'NO_RESPONDERS' });
  });
});
