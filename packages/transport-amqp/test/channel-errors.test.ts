// A channel error (the broker closing one channel for something one operation did) becomes a core
// error for that operation, and the transport stays usable: the channel is opened again.

import { Reader, StatusLog, checkBroker, str, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { connect as amqpConnect } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);

describe.skipIf(skip)('amqp channel errors', () => {
  let place: TestVhost;
  const open: Transport[] = [];
  let counter = 0;
  const unique = (label: string) => `chan.${label}.${process.pid}.${++counter}`;

  beforeAll(async () => {
    place = await createVhost('channels');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  afterAll(() => place?.remove());

  async function transport(delivery: 'at-most-once' | 'at-least-once'): Promise<Transport> {
    const t = await createAmqpTransport({ url: place.url, delivery });
    // The channel errors these cases cause are expected: watched, so not printed.
    t.status({ handler: () => undefined });
    open.push(t);
    return t;
  }

  /** Does something to the vhost behind the transports' backs, on a connection of its own. */
  async function meddle(work: (channel: import('amqplib').Channel) => Promise<unknown>): Promise<void> {
    const model = await amqpConnect({ protocol: 'amqp', hostname: HOST, port: PORT, username: place.username, password: place.password, vhost: place.vhost });
    model.on('error', () => undefined);
    try {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      await work(channel);
    } finally {
      await model.close().catch(() => undefined); // the meddling connection may be closed by the broker
    }
  }

  async function roundTrip(a: Transport, b: Transport): Promise<string> {
    const service = unique('echo');
    const replier = await a.reply(service, (request) => request.data);
    try {
      return str((await b.request(service, utf8('still here'))).data);
    } finally {
      await replier.unsubscribe();
    }
  }

  it('publishing to an exchange deleted by hand rejects with CONNECTION naming NOT_FOUND, and the next publish goes through', async () => {
    const t = await transport('at-least-once');
    const topic = unique('gone');
    await meddle((channel) => channel.deleteExchange('msg.topic'));
    await expect(t.publish(topic, utf8('lost'))).rejects.toMatchObject({ code: 'CONNECTION', message: expect.stringMatching(/NOT_FOUND/) });
    // The reopened channel declared the exchange again: publishing and subscribing work.
    const reader = new Reader(await t.subscribe(topic));
    await t.publish(topic, utf8('after'));
    expect(str((await reader.take(1, 5000))[0]!.data)).toBe('after');
    expect(await roundTrip(t, t)).toBe('still here');
  });

  it('at-most-once: after the exchange is deleted by hand, publishing recovers without the caller doing anything', async () => {
    const t = await transport('at-most-once');
    const topic = unique('gone');
    await meddle((channel) => channel.deleteExchange('msg.topic'));
    // The first publish resolves (at-most-once does not wait for the broker) and is lost; the
    // broker then closes the channel, which is reopened with the exchange declared again.
    await t.publish(topic, utf8('lost'));
    const reader = new Reader(await t.subscribe(topic));
    let got: string | undefined;
    for (let attempt = 0; attempt < 50 && got === undefined; attempt++) {
      await t.publish(topic, utf8('after'));
      got = (await reader.next(100)) ? 'after' : undefined;
    }
    expect(got).toBe('after');
  });

  it('a durable subscription whose queue exists with other settings rejects with INVALID_ARGUMENT naming PRECONDITION_FAILED, and the transport stays usable', async () => {
    const t = await transport('at-least-once');
    const durable = `clash_${process.pid}_${++counter}`;
    await meddle((channel) => channel.assertQueue(`msg.durable.${durable}`, { durable: false }));
    await expect(t.subscribe(unique('clash'), { durable })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/PRECONDITION_FAILED/),
    });
    expect(await roundTrip(t, t)).toBe('still here');
  });

  it('headers that do not fit in one AMQP header frame reject with INVALID_ARGUMENT, and the transport stays usable', async () => {
    for (const delivery of ['at-most-once', 'at-least-once'] as const) {
      const t = await transport(delivery);
      const huge = { big: 'x'.repeat(70_000) };
      await expect(t.publish(unique('huge'), utf8('x'), { headers: huge })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(t.request(unique('huge'), utf8('x'), { headers: huge })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await roundTrip(t, t)).toBe('still here');
    }
  });

  it('a queue deleted under its consumers is declared again, said in status(), and delivery resumes', async () => {
    const [a, b] = [await transport('at-most-once'), await transport('at-most-once')];
    const watched = new StatusLog(a);
    const topic = unique('requeue');
    const group = `g_${process.pid}_${++counter}`;
    const reader = new Reader(await a.subscribe(topic, { queue: group }));
    await meddle((channel) => channel.deleteQueue(`msg.group.${group}/${topic}`));
    let got = false;
    for (let attempt = 0; attempt < 50 && !got; attempt++) {
      await b.publish(topic, utf8('back'));
      got = (await reader.next(100)) !== undefined;
    }
    expect(got).toBe(true);
    expect(watched.events).toContainEqual(expect.objectContaining({ type: 'error', error: expect.objectContaining({ code: 'CONNECTION', message: expect.stringMatching(/cancelled the consumer of queue/) }) }));
  });
});
