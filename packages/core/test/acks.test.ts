import { describe, expect, it } from 'vitest';
import { type AckableMessage, type Message, MessageQueue, isMsgError } from '../src/index.js';

const m = (id: string): Message => ({ id, subject: 's', data: new Uint8Array(0), headers: {} });

type Settled = Array<[id: string, error: unknown, delay: number | undefined]>;
const recorder = (settled: Settled, id: string) => (error?: unknown, delay?: number) => void settled.push([id, error, delay]);

describe('MessageQueue with manual acks', () => {
  it('moving on settles nothing; ack and nack settle the message they are called on', async () => {
    const queue = new MessageQueue(10, false, { manual: true });
    const settled: Settled = [];
    queue.push(m('1'), recorder(settled, '1'));
    queue.push(m('2'), recorder(settled, '2'));
    const first = (await queue.next()).value as AckableMessage;
    const second = (await queue.next()).value as AckableMessage;
    expect(settled).toEqual([]);
    second.nack({ delay: 250 });
    first.ack();
    expect(settled.map(([id, error, delay]) => [id, error === undefined, delay])).toEqual([
      ['2', false, 250],
      ['1', true, undefined],
    ]);
  });

  it('settling twice is INVALID_ARGUMENT, after the subscription ended CLOSED, and a bad delay INVALID_ARGUMENT', async () => {
    const queue = new MessageQueue(10, false, { manual: true });
    queue.push(m('1'), () => undefined);
    queue.push(m('2'), () => undefined);
    const first = (await queue.next()).value as AckableMessage;
    const second = (await queue.next()).value as AckableMessage;
    first.ack();
    expect(() => first.ack()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => first.nack()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => second.nack({ delay: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    queue.discard(new Error('unsubscribed'));
    let thrown: unknown;
    try {
      second.ack();
    } catch (error) {
      thrown = error;
    }
    expect(isMsgError(thrown, 'CLOSED')).toBe(true);
  });

  it('discard gives back every message not settled, consumed or still queued, and none that was', async () => {
    const queue = new MessageQueue(10, false, { manual: true });
    const settled: Settled = [];
    for (const id of ['1', '2', '3']) queue.push(m(id), recorder(settled, id));
    const first = (await queue.next()).value as AckableMessage;
    await queue.next();
    first.ack();
    const reason = new Error('unsubscribed');
    queue.discard(reason);
    expect(settled.map(([id, error]) => [id, error])).toEqual([
      ['1', undefined],
      ['2', reason],
      ['3', reason],
    ]);
  });

  it('callback form: a handler that returns leaves its message unsettled, one that throws before settling nacks it', async () => {
    const queue = new MessageQueue(10, false, { manual: true });
    const settled: Settled = [];
    const held: AckableMessage[] = [];
    queue.consume(
      (message) => {
        held.push(message as AckableMessage);
        if (message.id === '2') throw new Error('boom');
        if (message.id === '3') {
          (message as AckableMessage).ack();
          throw new Error('after the ack');
        }
      },
      () => undefined,
    );
    for (const id of ['1', '2', '3']) queue.push(m(id), recorder(settled, id));
    expect(held.map((message) => message.id)).toEqual(['1', '2', '3']);
    expect(settled.map(([id, error]) => [id, error instanceof Error ? error.message : error])).toEqual([
      ['2', 'boom'],
      ['3', undefined],
    ]);
    held[0]?.ack();
    expect(settled.map(([id]) => id)).toEqual(['2', '3', '1']);
  });
});

describe('MessageQueue dead letters', () => {
  const deadLetters = () => {
    const sent: Array<[id: string, deliveries: number, error: string]> = [];
    let failing = false;
    return {
      sent,
      fail: () => void (failing = true),
      acks: {
        manual: false,
        deadLetter: {
          maxDeliveries: 3,
          send: async (message: Message, deliveries: number, error: unknown) => {
            if (failing) throw new Error('dead-letter topic unreachable');
            sent.push([message.id, deliveries, (error as Error).message]);
          },
        },
      },
    };
  };

  it('a failure before the last allowed delivery is a nack; at the last it is sent to the dead letters and acked', async () => {
    const dl = deadLetters();
    const queue = new MessageQueue(10, false, dl.acks);
    const settled: Settled = [];
    queue.consume(() => {
      throw new Error('poison');
    }, () => undefined);
    queue.push(m('a'), recorder(settled, 'a2'), 2);
    queue.push(m('a'), recorder(settled, 'a3'), 3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled.map(([id, error]) => [id, error instanceof Error ? error.message : error])).toEqual([
      ['a2', 'poison'],
      ['a3', undefined],
    ]);
    expect(dl.sent).toEqual([['a', 3, 'poison']]);
  });

  it('a dead letter that cannot be published leaves the message to be delivered again', async () => {
    const dl = deadLetters();
    dl.fail();
    const queue = new MessageQueue(10, false, dl.acks);
    const settled: Settled = [];
    queue.consume(() => {
      throw new Error('poison');
    }, () => undefined);
    queue.push(m('a'), recorder(settled, 'a'), 5);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toHaveLength(1);
    expect((settled[0]?.[1] as Error).message).toBe('dead-letter topic unreachable');
    expect(dl.sent).toEqual([]);
  });

  it('manual: nack on the last allowed delivery dead-letters with the error it was given, at once', async () => {
    const dl = deadLetters();
    const queue = new MessageQueue(10, false, { ...dl.acks, manual: true });
    const settled: Settled = [];
    queue.push(m('a'), recorder(settled, 'a'), 3);
    const message = (await queue.next()).value as AckableMessage;
    expect(message.deliveries).toBe(3);
    message.nack({ delay: 10_000, error: new Error('rejected by the consumer') });
    await new Promise((resolve) => setImmediate(resolve));
    expect(dl.sent).toEqual([['a', 3, 'rejected by the consumer']]);
    expect(settled).toEqual([['a', undefined, undefined]]);
  });
});
