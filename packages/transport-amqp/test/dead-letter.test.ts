// Classic queues keep no delivery count, so with a dead-letter topic a failed delivery goes back to
// its queue as a copy with the count in a header (see pubsub.ts). The count therefore lives in the
// broker: a subscriber that resumes the durable name goes on from it, and the dead letter comes
// after the allowed failures in all, not per subscriber; a delivery given back unconsumed is not one.

import { Reader, checkBroker, str, uniqueName, utf8 } from '@msg/conformance';
import { type AckableMessage, DEAD_LETTER_ATTEMPTS_HEADER, type Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);

describe.skipIf(skip)('amqp dead letters', () => {
  let place: TestVhost;
  const open: Transport[] = [];
  beforeAll(async () => {
    place = await createVhost('deadletter');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  afterAll(() => place?.remove());

  const transport = async () => {
    const t = await createAmqpTransport({ url: place.url, delivery: 'at-least-once' });
    open.push(t);
    return t;
  };

  it('the delivery count is kept in the queue: a resumed durable subscriber goes on from it', async () => {
    const [publisher, first, second] = await Promise.all([transport(), transport(), transport()]);
    const topic = uniqueName('counted');
    const deadTopic = uniqueName('dlq');
    const durable = uniqueName('d').replaceAll('.', '_');
    const deadLetter = { topic: deadTopic, maxDeliveries: 3 };
    const letters = new Reader(await publisher.subscribe(deadTopic));

    const one = await first.subscribe(topic, { durable, ack: 'manual', deadLetter });
    const reader = new Reader<AckableMessage>(one);
    await publisher.publish(topic, utf8('poison'), { headers: { kept: 'yes' } });
    const [firstTry] = await reader.take(1, 4000);
    expect(firstTry!.deliveries).toBe(1);
    firstTry!.nack({ error: new Error('first') });
    const [secondTry] = await reader.take(1, 4000);
    expect(secondTry!.deliveries).toBe(2);
    // The copy keeps the message's id, topic and headers; the adapter's own headers stay hidden.
    expect(secondTry!.id).toBe(firstTry!.id);
    expect(secondTry!.subject).toBe(topic);
    expect(secondTry!.headers).toEqual({ kept: 'yes' });
    await one.unsubscribe(); // given back unconsumed: not a failure, not counted

    const resumed = new Reader<AckableMessage>(await second.subscribe(topic, { durable, ack: 'manual', deadLetter }));
    const [again] = await resumed.take(1, 4000);
    expect(again!.deliveries).toBe(2);
    again!.nack({ error: new Error('second') });
    const [thirdTry] = await resumed.take(1, 4000);
    expect(thirdTry!.deliveries).toBe(3);
    thirdTry!.nack({ error: new Error('third') });
    const [letter] = await letters.take(1, 4000);
    expect(str(letter!.data)).toBe('poison');
    expect(letter!.headers[DEAD_LETTER_ATTEMPTS_HEADER]).toBe('3');
    expect(await resumed.next(500)).toBeUndefined();
  });
});
