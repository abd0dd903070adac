import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError, STATUS_BUFFER, StatusFeed, type StatusEvent, createTransport } from '../src/index.js';
import type { Backend } from '../src/index.js';

/** The smallest backend that lets the core build a transport around a feed: nothing but close. */
function transportOn(status: StatusFeed) {
  const unused = () => Promise.reject(new Error('not used by these cases'));
  const backend: Backend = {
    name: 'feed',
    status,
    capabilities: {
      patterns: [],
      delivery: 'at-most-once',
      ordering: 'none',
      durable: false,
      replay: false,
      maxPayload: 1,
      wildcards: false,
      headers: false,
      queueGroups: false,
      deadLetter: false,
      timing: { surveyDeadlineMs: 1, settleMs: 1 },
    },
    request: unused,
    reply: unused,
    publish: unused,
    subscribe: unused,
    survey: unused,
    respond: unused,
    join: unused,
    close: async () => undefined,
  };
  return createTransport(backend);
}

const lost = (n: number): StatusEvent => ({ type: 'disconnected', connection: `c${n}`, error: new ConnectionError(`lost ${n}`) });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('status()', () => {
  it('yields what the adapter emits from the moment it is called, in order', async () => {
    const feed = new StatusFeed('feed');
    const t = transportOn(feed);
    const stream = t.status();
    feed.emit(lost(1));
    feed.emit({ type: 'reconnecting', connection: 'c1', attempt: 1, delayMs: 100 });
    feed.emit({ type: 'reconnected', connection: 'c1' });
    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(event.type);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['disconnected', 'reconnecting', 'reconnected']);
    await t.close();
  });

  it('an iterator that falls behind keeps the newest STATUS_BUFFER events and counts the dropped', async () => {
    const feed = new StatusFeed('feed');
    const t = transportOn(feed);
    const stream = t.status();
    for (let i = 0; i < STATUS_BUFFER + 5; i++) feed.emit(lost(i));
    const first = await stream[Symbol.asyncIterator]().next();
    expect(first.value).toMatchObject({ connection: 'c5' });
    expect(stream.dropped).toBe(5);
    await t.close();
  });

  it('nobody watching: the first failure is printed once, later ones and other events are not', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const feed = new StatusFeed('feed');
    feed.emit({ type: 'reconnected', connection: 'c' });
    feed.emit(lost(1));
    feed.error('c', new ConnectionError('a failed ack'));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/lost 1 .*watch transport.status\(\) to see each/);
  });

  it('a handler that throws is reported and does not stop the other watchers', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const feed = new StatusFeed('feed');
    const t = transportOn(feed);
    const seen: StatusEvent[] = [];
    t.status({
      handler: () => {
        throw new Error('a bug in the user code');
      },
    });
    t.status({ handler: (event) => seen.push(event) });
    feed.emit(lost(1));
    expect(seen).toHaveLength(1);
    expect(error).toHaveBeenCalledTimes(1);
    await t.close();
  });

  it('a handler that is not a function is INVALID_ARGUMENT', async () => {
    const t = transportOn(new StatusFeed('feed'));
    expect(() => t.status({ handler: 'log' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await t.close();
  });
});
