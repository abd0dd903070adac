// The confirm profile settles a message only once the consumer is done with it. A handler that
// throws gets it again from the broker (a `modified` outcome, delivery failed), with the same id.
// Messages that arrived while a handler was still busy, and were never handed to it, are given back
// when the transport closes and delivered again when the durable subscription resumes, in order;
// the handled ones are not. A durable name is one subscriber at a time.

import { checkBroker, sleep, uniqueName } from '@msg/conformance';
import { text } from '@msg/core';
import { expect, it } from 'vitest';
import { createAmqp1Transport } from '../src/index.js';
import { removeDurable } from './durable.js';

const skip = await checkBroker('ActiveMQ (AMQP 1.0)', '127.0.0.1', 5673);
const url = 'amqp1://127.0.0.1:5673';

it.skipIf(skip)('a handler that throws gets the message again from the broker, with the same id, until it is handled', async () => {
  const topic = uniqueName('redeliver');
  const [publisher, subscriber] = [await createAmqp1Transport({ url, confirm: true }), await createAmqp1Transport({ url, confirm: true })];
  try {
    const attempts: string[] = [];
    let done!: () => void;
    const handled = new Promise<void>((resolve) => (done = resolve));
    await subscriber.subscribe(topic, {
      handler: (message) => {
        attempts.push(message.id);
        if (attempts.length < 3) throw new Error('not yet');
        done();
      },
      onError: () => undefined,
    });
    await publisher.publish(topic, text.encode('again'));
    await handled;
    await sleep(250); // a wrong redelivery of the handled message would arrive by now
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts).size).toBe(1);
  } finally {
    await Promise.all([publisher.close(), subscriber.close()]);
  }
});

it.skipIf(skip)('messages not yet handed to the handler are redelivered to the resumed durable subscription, handled ones are not', async () => {
  const topic = uniqueName('redeliver');
  const durable = uniqueName('d').replaceAll('.', '_');
  const publisher = await createAmqp1Transport({ url, confirm: true });
  const first = await createAmqp1Transport({ url, confirm: true });
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  await first.subscribe(topic, {
    durable,
    handler: (message) => {
      if (text.decode(message.data) === 'handled') return;
      holding();
      return new Promise<void>(() => undefined); // still working when the transport closes
    },
  });
  for (const data of ['handled', 'in hand', 'second', 'third']) await publisher.publish(topic, text.encode(data));
  await held;
  await sleep(100); // 'second' and 'third' reach the subscriber's connection, behind the busy handler
  await first.close();

  const again = await createAmqp1Transport({ url, confirm: true });
  const received: string[] = [];
  const resumed = await again.subscribe(topic, { durable, handler: (message) => void received.push(text.decode(message.data)) });
  const deadline = Date.now() + 3000;
  while (received.length < 2 && Date.now() < deadline) await sleep(10);
  await sleep(250); // a wrong redelivery of a handled message would arrive by now
  expect(received).toEqual(['second', 'third']);
  await resumed.unsubscribe();
  await Promise.all([again.close(), publisher.close()]);
  // The durable subscription outlives its subscriber, as it should; this removes it.
  await removeDurable(durable, topic);
});

it.skipIf(skip)('a second subscriber with the same durable name is refused while the first is there, saying why', async () => {
  const durable = uniqueName('d').replaceAll('.', '_');
  const [first, second] = [await createAmqp1Transport({ url, confirm: true }), await createAmqp1Transport({ url, confirm: true })];
  try {
    await first.subscribe(uniqueName('takeover'), { durable });
    await expect(second.subscribe(uniqueName('takeover'), { durable })).rejects.toMatchObject({
      code: 'CONNECTION',
      message: expect.stringMatching(/is another subscriber using/),
    });
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
});
