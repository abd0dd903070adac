// The at-least-once profile with quorum queues, on the local node in a vhost of this file's own: the
// whole suite, and the queues that outlive a connection are really of type quorum. (On three nodes,
// with one killed under load: cluster.test.ts.)

import { checkBroker, describeTransport, uniqueName } from '@msg/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { amqpConfirmedCapabilities, createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost, rabbitmqctl } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);
const place: TestVhost | undefined = skip ? undefined : await createVhost('quorum');
afterAll(() => place?.remove(), 60_000);

const quorum = () => createAmqpTransport({ url: place?.url, delivery: 'at-least-once', queueType: 'quorum' });

describeTransport({ name: 'amqp at-least-once, quorum queues', capabilities: amqpConfirmedCapabilities, connect: quorum, skip });

describe.skipIf(skip)('amqp quorum queues', () => {
  it('durable, queue group and plain subscriptions get quorum queues; request/reply keeps its auto-deleted classic queue', async () => {
    const t = await quorum();
    try {
      const durable = uniqueName('q.durable');
      await t.subscribe(uniqueName('q.topic'), { durable });
      await t.subscribe(uniqueName('q.topic'), { queue: 'workers' });
      await t.subscribe(uniqueName('q.topic'));
      const service = uniqueName('q.service');
      await t.reply(service, (request) => request.data);
      const types = new Map(
        (await rabbitmqctl('list_queues', '-p', place!.vhost, '--no-table-headers', 'name', 'type'))
          .trim()
          .split('\n')
          .map((line) => line.trim().split(/\s+/) as [string, string]),
      );
      const of = (fragment: string) => [...types].filter(([name]) => name.includes(fragment)).map(([, type]) => type);
      expect(of(durable)).toEqual(['quorum']);
      expect(of('workers')).toEqual(['quorum']);
      expect(of('msg.sub.')).toEqual(['quorum']);
      expect(of(service)).toEqual(['classic']);
    } finally {
      await t.close();
    }
  });

  it('refuses quorum queues in the at-most-once profile, saying why', async () => {
    await expect(createAmqpTransport({ url: place?.url, queueType: 'quorum' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('at-least-once'),
    });
  });
});
