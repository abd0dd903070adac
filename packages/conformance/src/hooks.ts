// Transport hooks (the extension point tracing builds on) over the real backend: what a send hook
// adds to a message's headers reaches the other side when the transport carries headers, and a
// transport that declares `headers: false` gives the hook nothing to write to.
import type { DeliverEvent, DeliverOutcome, HookEvent, Message, Transport } from '@msg/core';
import { describe, expect } from 'vitest';
import { type Context, caseIf, pair, supports } from './context.js';
import { Reader, str, uniqueName, utf8 } from './helpers.js';

const MARK = 'x-conformance-mark';

/** Installs hooks on `t` that mark every outgoing message (where they can) and record what they saw. */
function record(t: Transport) {
  const sent: { event: HookEvent; writable: boolean; ended: { error: unknown; reply?: Message }[] }[] = [];
  const processed: HookEvent[] = [];
  const delivered: { event: DeliverEvent; outcome: DeliverOutcome }[] = [];
  t.use({
    send(event, headers) {
      if (headers) headers[MARK] = event.message.id;
      const entry = { event, writable: headers !== undefined, ended: [] as { error: unknown; reply?: Message }[] };
      sent.push(entry);
      return (error, reply) => entry.ended.push({ error, reply });
    },
    process(event, work) {
      processed.push(event);
      return work();
    },
    deliver(event, outcome) {
      delivered.push({ event, outcome });
    },
  });
  return { sent, processed, delivered };
}

export function hookCases(ctx: Context): void {
  describe('hooks', () => {
    const carries = ctx.capabilities.headers;
    /** What a hook's mark looks like on the far side: the sender's message id, or nothing at all. */
    const markOf = (id: string) => (carries ? id : undefined);

    caseIf(ctx, supports(ctx, 'request'), "request: send sees the request and its reply; the replier's process sees what it added", 'does not declare request/reply', async () => {
      const [a, b] = await pair(ctx);
      const server = record(a);
      const client = record(b);
      const service = uniqueName('hk');
      await a.reply(service, (request) => utf8(`mark:${request.headers[MARK] ?? 'none'}`));
      const reply = await b.request(service, utf8('hello'), { headers: carries ? { user: 'kept' } : undefined });

      const [out] = client.sent;
      expect(client.sent).toHaveLength(1);
      expect(out?.event).toMatchObject({ transport: b.name, pattern: 'request', message: { subject: service } });
      expect(out?.event.message.data.length).toBe(5);
      expect(out?.writable).toBe(carries);
      expect(out?.ended).toHaveLength(1);
      expect(out?.ended[0]?.error).toBeUndefined();
      expect(str(out?.ended[0]?.reply?.data ?? new Uint8Array())).toBe(str(reply.data));
      expect(str(reply.data)).toBe(`mark:${markOf(out!.event.message.id) ?? 'none'}`);

      expect(server.processed).toHaveLength(1);
      expect(server.processed[0]).toMatchObject({ transport: a.name, pattern: 'request', message: { subject: service } });
      expect(server.processed[0]?.message.headers[MARK]).toBe(markOf(out!.event.message.id));
      if (carries) expect(server.processed[0]?.message.headers.user).toBe('kept');
    });

    caseIf(ctx, supports(ctx, 'request'), 'request: a failed request ends its send with the error', 'does not declare request/reply', async () => {
      const [a, b] = await pair(ctx);
      const client = record(b);
      const service = uniqueName('hk');
      await a.reply(service, () => {
        throw new Error('refused');
      });
      await expect(b.request(service, utf8('x'))).rejects.toMatchObject({ code: 'REMOTE' });
      expect(client.sent[0]?.ended).toHaveLength(1);
      expect(client.sent[0]?.ended[0]?.error).toMatchObject({ code: 'REMOTE', message: 'refused' });
    });

    caseIf(ctx, supports(ctx, 'publish'), 'publish: deliver and process see the message with what send added', 'does not declare publish/subscribe', async () => {
      const [a, b] = await pair(ctx);
      const consumer = record(a);
      const producer = record(b);
      const topic = uniqueName('hk');
      const handled: Message[] = [];
      await a.subscribe(topic, { handler: (message) => void handled.push(message) });
      const iterated = new Reader(await a.subscribe(topic));
      await b.publish(topic, utf8('event'));

      expect((await iterated.take(1, ctx.settle * 20)).map((m) => str(m.data))).toEqual(['event']);
      const id = producer.sent[0]!.event.message.id;
      expect(producer.sent[0]?.event).toMatchObject({ pattern: 'publish', message: { subject: topic } });
      expect(producer.sent[0]?.writable).toBe(carries);
      expect(producer.sent[0]?.ended).toEqual([{ error: undefined, reply: undefined }]);
      for (let i = 0; i < 40 && handled.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, ctx.settle / 2));
      expect(handled).toHaveLength(1);

      expect(consumer.processed).toHaveLength(1);
      expect(consumer.processed[0]?.message.headers[MARK]).toBe(markOf(id));
      const received = consumer.delivered.filter((d) => d.outcome === 'received');
      expect(received.map((d) => d.event.handled).sort()).toEqual([false, true]);
      for (const d of received) {
        expect(d.event).toMatchObject({ transport: a.name, pattern: 'publish', subscription: topic, message: { subject: topic } });
        expect(d.event.message.headers[MARK]).toBe(markOf(id));
      }
    });

    caseIf(ctx, supports(ctx, 'survey'), "survey: each respondent's process sees what send added; send ends at the deadline", 'does not declare survey', async () => {
      const [r1, r2] = await ctx.peers.many(2);
      const surveyor = await ctx.peers.one();
      const respondents = [record(r1!), record(r2!)];
      const asking = record(surveyor);
      const topic = uniqueName('hk');
      for (const r of [r1, r2]) await r?.respond(topic, (q) => utf8(q.headers[MARK] ?? 'none'));
      const answers = await surveyor.survey(topic, utf8('?'), { deadline: ctx.deadline }).toArray();
      const id = asking.sent[0]!.event.message.id;
      expect(answers.map((answer) => str(answer.data))).toEqual([markOf(id) ?? 'none', markOf(id) ?? 'none']);
      expect(asking.sent[0]?.event.pattern).toBe('survey');
      expect(asking.sent[0]?.ended).toEqual([{ error: undefined, reply: undefined }]);
      for (const r of respondents) expect(r.processed.map((e) => e.pattern)).toEqual(['survey']);
    });

    caseIf(ctx, supports(ctx, 'bus'), 'bus: the other member is told of the message with what send added', 'does not declare bus', async () => {
      const [a, b] = await pair(ctx);
      const group = uniqueName('hk');
      const listening = record(a);
      const sending = record(b);
      const reader = new Reader(await a.join(group));
      const member = await b.join(group);
      await member.send(utf8('hi'));
      expect((await reader.take(1, ctx.settle * 20)).map((m) => str(m.data))).toEqual(['hi']);
      const id = sending.sent[0]!.event.message.id;
      expect(sending.sent[0]?.event).toMatchObject({ pattern: 'bus', message: { subject: group } });
      expect(sending.sent[0]?.ended).toEqual([{ error: undefined, reply: undefined }]);
      const received = listening.delivered.filter((d) => d.outcome === 'received');
      expect(received).toHaveLength(1);
      expect(received[0]?.event).toMatchObject({ pattern: 'bus', subscription: group, handled: false });
      expect(received[0]?.event.message.headers[MARK]).toBe(markOf(id));
    });

    caseIf(ctx, carries && supports(ctx, 'publish'), 'a send hook that adds a reserved msg- header fails the publish with INVALID_ARGUMENT', 'does not carry headers', async () => {
      const t = await ctx.peers.one();
      const ended: unknown[] = [];
      t.use({
        send(_event, headers) {
          if (headers) headers['msg-forged'] = 'x';
          return (error) => ended.push(error);
        },
      });
      await expect(t.publish(uniqueName('hk'), utf8('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ code: 'INVALID_ARGUMENT' });
    });
  });
}
