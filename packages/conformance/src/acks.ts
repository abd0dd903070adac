// Settling by hand (`ack: 'manual'`) and dead letters. At-least-once transports offer manual acks;
// those that declare `deadLetter` also count deliveries and move a failing message aside.

import {
  type AckableMessage,
  DEAD_LETTER_ATTEMPTS_HEADER,
  DEAD_LETTER_ERROR_HEADER,
  DEAD_LETTER_ID_HEADER,
  DEAD_LETTER_SOURCE_HEADER,
} from '@msg/core';
import { describe, expect } from 'vitest';
import { type Context, caseIf, it, pair, supports } from './context.js';
import { Reader, str, uniqueName, utf8 } from './helpers.js';

const durableName = () => uniqueName('d').replaceAll('.', '_');

export function ackCases(ctx: Context): void {
  describe('acks', () => {
    const caps = ctx.capabilities;
    const on = supports(ctx, 'publish');
    const acks = on && caps.delivery === 'at-least-once';
    const whyAcks = on ? 'is at-most-once: it has nothing to acknowledge' : 'does not declare publish/subscribe';
    // The unsubscribe case resumes a durable name, so that the next subscriber is the same consumer.
    const resumable = acks && caps.durable;
    const whyResumable = acks ? 'declares no durable subscriptions' : whyAcks;
    const window = ctx.settle * 20;

    if (on && !acks) {
      it("ack: 'manual' rejects with UNSUPPORTED (at-most-once)", async () => {
        const t = await ctx.peers.one();
        await expect(t.subscribe(uniqueName('acks'), { ack: 'manual' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    caseIf(ctx, resumable, 'manual: a message acked is not delivered again, one not settled is', whyResumable, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('acked');
      const durable = durableName();
      const first = await a.subscribe(topic, { durable, ack: 'manual' });
      const reader = new Reader<AckableMessage>(first);
      await b.publish(topic, utf8('acked'));
      const [acked] = await reader.take(1, window);
      expect(str(acked!.data)).toBe('acked');
      acked!.ack();
      await b.publish(topic, utf8('not yet'));
      const [notYet] = await reader.take(1, window);
      expect(str(notYet!.data)).toBe('not yet');
      await first.unsubscribe();
      const again = new Reader<AckableMessage>(await a.subscribe(topic, { durable, ack: 'manual' }));
      const back = await again.take(1, window);
      expect(str(back[0]!.data)).toBe('not yet');
      expect(back[0]!.id).toBe(notYet!.id);
      back[0]!.ack();
      expect(await again.next(ctx.settle)).toBeUndefined();
    });

    caseIf(ctx, resumable, 'manual: a message neither acked nor nacked at unsubscribe is delivered to the next subscriber of its durable name', whyResumable, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('unacked');
      const durable = durableName();
      const first = await a.subscribe(topic, { durable, ack: 'manual' });
      const reader = new Reader<AckableMessage>(first);
      await b.publish(topic, utf8('held'));
      const [held] = await reader.take(1, window);
      await first.unsubscribe();
      expect(() => held!.ack()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
      const next = new Reader<AckableMessage>(await a.subscribe(topic, { durable, ack: 'manual' }));
      const [again] = await next.take(1, window);
      expect(str(again!.data)).toBe('held');
      expect(again!.id).toBe(held!.id);
      again!.ack();
    });

    caseIf(ctx, acks, 'manual: a nacked message is delivered again (after its delay), and settling twice is INVALID_ARGUMENT', whyAcks, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('nacked');
      const reader = new Reader<AckableMessage>(await a.subscribe(topic, { ack: 'manual' }));
      await b.publish(topic, utf8('again'));
      const [first] = await reader.take(1, window);
      first!.nack({ delay: 200 });
      expect(() => first!.ack()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      const [second] = await reader.take(1, window + 200);
      expect(second!.id).toBe(first!.id);
      expect(str(second!.data)).toBe('again');
      second!.ack();
      expect(await reader.next(ctx.settle)).toBeUndefined();
    });

    caseIf(ctx, acks, 'manual: asking for the next message settles nothing, and maxPending bounds those not yet settled', whyAcks, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('bound');
      const reader = new Reader<AckableMessage>(await a.subscribe(topic, { ack: 'manual', maxPending: 1 }));
      for (const text of ['1', '2']) await b.publish(topic, utf8(text));
      const [held] = await reader.take(1, window);
      expect(await reader.next(ctx.settle * 2)).toBeUndefined();
      held!.ack();
      const [second] = await reader.take(1, window);
      expect([held!, second!].map((message) => str(message.data)).sort()).toEqual(['1', '2']);
      second!.ack();
    });

    caseIf(ctx, acks, 'manual, callback form: the handler settles; one that throws before settling nacks its message', whyAcks, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('cbmanual');
      const seen: string[] = [];
      let done!: () => void;
      const settledAll = new Promise<void>((resolve) => (done = resolve));
      await a.subscribe(topic, {
        ack: 'manual',
        onError: () => undefined,
        handler: (message) => {
          seen.push(str(message.data));
          if (seen.length === 1) throw new Error('first attempt fails');
          message.ack();
          if (seen.length === 2) done();
        },
      });
      await b.publish(topic, utf8('once more'));
      await settledAll;
      expect(seen).toEqual(['once more', 'once more']);
    });

    if (acks && !caps.deadLetter) {
      it('deadLetter rejects with UNSUPPORTED (capabilities.deadLetter is false)', async () => {
        const t = await ctx.peers.one();
        await expect(t.subscribe(uniqueName('dl'), { deadLetter: { topic: uniqueName('dlq'), maxDeliveries: 3 } })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }
    if (on && !acks) {
      it('deadLetter rejects with UNSUPPORTED (at-most-once)', async () => {
        const t = await ctx.peers.one();
        await expect(t.subscribe(uniqueName('dl'), { deadLetter: { topic: uniqueName('dlq'), maxDeliveries: 3 } })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    const dead = acks && caps.deadLetter;
    const whyDead = acks ? 'declares no deadLetter' : whyAcks;

    caseIf(ctx, dead, 'dead letter: a message whose handler always throws reaches the dead-letter topic once, after maxDeliveries, with its headers, and the subscription moves on', whyDead, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('poison');
      const deadTopic = uniqueName('dlq');
      const letters = new Reader(await b.subscribe(deadTopic));
      let attempts = 0;
      let moveOn!: () => void;
      const movedOn = new Promise<void>((resolve) => (moveOn = resolve));
      await a.subscribe(topic, {
        deadLetter: { topic: deadTopic, maxDeliveries: 3 },
        onError: () => undefined,
        handler: (message) => {
          if (str(message.data) === 'next') return moveOn();
          attempts++;
          throw new Error('this handler always fails');
        },
      });
      await b.publish(topic, utf8('poison'), { headers: { origin: 'conformance' } });
      await b.publish(topic, utf8('next'));
      const [letter] = await letters.take(1, window * 3);
      await movedOn;
      expect(str(letter!.data)).toBe('poison');
      expect(letter!.subject).toBe(deadTopic);
      expect(letter!.headers[DEAD_LETTER_SOURCE_HEADER]).toBe(topic);
      expect(letter!.headers[DEAD_LETTER_ATTEMPTS_HEADER]).toBe('3');
      expect(letter!.headers[DEAD_LETTER_ERROR_HEADER]).toBe('this handler always fails');
      expect(letter!.headers[DEAD_LETTER_ID_HEADER]).toBeTruthy();
      expect(letter!.headers['origin']).toBe('conformance');
      expect(await letters.next(ctx.settle * 2)).toBeUndefined();
      expect(attempts).toBe(3);
    });

    caseIf(ctx, dead, 'dead letter: nack counts as a failed delivery, and its error is the dead letter\'s', whyDead, async () => {
      const [a, b] = await pair(ctx);
      const topic = uniqueName('nackdl');
      const deadTopic = uniqueName('dlq');
      const letters = new Reader(await b.subscribe(deadTopic));
      const reader = new Reader<AckableMessage>(await a.subscribe(topic, { ack: 'manual', deadLetter: { topic: deadTopic, maxDeliveries: 2 } }));
      await b.publish(topic, utf8('refused'));
      for (let delivery = 1; delivery <= 2; delivery++) {
        const [message] = await reader.take(1, window);
        expect(message!.deliveries).toBe(delivery);
        message!.nack({ error: new Error(`refused ${delivery}`) });
      }
      const [letter] = await letters.take(1, window);
      expect(str(letter!.data)).toBe('refused');
      expect(letter!.headers[DEAD_LETTER_ATTEMPTS_HEADER]).toBe('2');
      expect(letter!.headers[DEAD_LETTER_ERROR_HEADER]).toBe('refused 2');
      expect(await reader.next(ctx.settle * 2)).toBeUndefined();
    });

    caseIf(ctx, dead, 'dead letter: a topic that the subscription itself matches is INVALID_ARGUMENT', whyDead, async () => {
      const t = await ctx.peers.one();
      const topic = uniqueName('self');
      await expect(t.subscribe(topic, { deadLetter: { topic, maxDeliveries: 3 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(t.subscribe(topic, { deadLetter: { topic: `${topic}.dlq`, maxDeliveries: 0 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
}
