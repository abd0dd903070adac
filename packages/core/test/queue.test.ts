import { describe, expect, it } from 'vitest';
import { type Message, MessageQueue } from '../src/index.js';

const m = (id: string): Message => ({ id, subject: 's', data: new Uint8Array(0), headers: {} });

describe('MessageQueue', () => {
  it('at-most-once: drops the newest past the limit and counts it', async () => {
    const queue = new MessageQueue(2, true);
    queue.push(m('1'));
    queue.push(m('2'));
    queue.push(m('3'));
    queue.end();
    const ids: string[] = [];
    for await (const message of queue) ids.push(message.id);
    expect(ids).toEqual(['1', '2']);
    expect(queue.dropped).toBe(1);
  });

  it('settles a message as handled when the consumer asks for the next one', async () => {
    const queue = new MessageQueue(10, false);
    const settled: Array<[string, unknown]> = [];
    queue.push(m('1'), (error) => settled.push(['1', error]));
    queue.push(m('2'), (error) => settled.push(['2', error]));
    const first = await queue.next();
    expect(first.value?.id).toBe('1');
    expect(settled).toEqual([]);
    await queue.next();
    expect(settled).toEqual([['1', undefined]]);
  });

  it('discard gives back every unconsumed message with the reason (nack)', () => {
    const queue = new MessageQueue(10, false);
    const reasons: unknown[] = [];
    queue.push(m('1'), (error) => reasons.push(error));
    queue.push(m('2'), (error) => reasons.push(error));
    const reason = new Error('unsubscribed');
    queue.discard(reason);
    expect(reasons).toEqual([reason, reason]);
  });

  it('fail makes iteration throw after what is queued', async () => {
    const queue = new MessageQueue(10, true);
    queue.push(m('1'));
    queue.fail(new Error('broken'));
    const iterator = queue[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.id).toBe('1');
    await expect(iterator.next()).rejects.toThrow('broken');
  });

  it('consume: hands messages to the handler one at a time, in order, and a throw is a nack reported once', async () => {
    const queue = new MessageQueue(100_000, false);
    const seen: string[] = [];
    const settled: Array<[string, unknown]> = [];
    const errors: unknown[] = [];
    let running = 0;
    let overlapped = false;
    queue.consume(
      async (message) => {
        if (++running > 1) overlapped = true;
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(message.id);
        running--;
        if (message.id === '2') throw new Error('no');
      },
      (error) => errors.push(error),
    );
    for (const id of ['1', '2', '3']) queue.push(m(id), (error) => settled.push([id, error]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual(['1', '2', '3']);
    expect(overlapped).toBe(false);
    expect(settled.map(([id, error]) => [id, error === undefined])).toEqual([['1', true], ['2', false], ['3', true]]);
    expect(errors).toHaveLength(1);
  });

  it('consume: a synchronous handler gets a long backlog in a loop, not by recursion', () => {
    const queue = new MessageQueue(200_000, false);
    for (let i = 0; i < 100_000; i++) queue.push(m(String(i)));
    let count = 0;
    queue.consume(() => void count++, () => undefined);
    expect(count).toBe(100_000);
    queue.push(m('more'));
    expect(count).toBe(100_001);
  });
});
