// QoS 1 acknowledges a message only once the consumer is done with it. Messages that arrived while a
// handler was still busy, and were never handed to it, are given back when the transport closes and
// delivered again when the durable subscription resumes, in order; the handled ones are not (the one
// in the handler's hands at close counts as handled, as the core's rule for unsubscribe says).

import { checkBroker, sleep, uniqueName } from '@msg/conformance';
import { text } from '@msg/core';
import mqtt from 'mqtt';
import { expect, it } from 'vitest';
import { createMqttTransport } from '../src/index.js';

const skip = await checkBroker('Mosquitto', '127.0.0.1', 1883);
const url = 'mqtt://127.0.0.1:1883';

it.skipIf(skip)('messages not yet handed to the handler are redelivered to the resumed durable subscription, handled ones are not', async () => {
  const topic = uniqueName('redeliver');
  const durable = uniqueName('d').replaceAll('.', '_');
  const publisher = await createMqttTransport({ url, qos: 1 });
  const first = await createMqttTransport({ url, qos: 1 });
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

  const again = await createMqttTransport({ url, qos: 1 });
  const received: string[] = [];
  await again.subscribe(topic, { durable, handler: (message) => void received.push(text.decode(message.data)) });
  const deadline = Date.now() + 3000;
  while (received.length < 2 && Date.now() < deadline) await sleep(10);
  await sleep(200); // a wrong redelivery of a handled message would arrive by now
  expect(received).toEqual(['second', 'third']);

  await Promise.all([again.close(), publisher.close()]);
  // The durable session outlives close, as it should; a clean start with this client id ends it.
  const cleanup = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: durable, clean: true, reconnectPeriod: 0 });
  await cleanup.endAsync();
});

it.skipIf(skip)('a second subscriber with the same durable name takes the session over, and the first is told through status() that it lost its connection', async () => {
  const durable = uniqueName('d').replaceAll('.', '_');
  const reports: string[] = [];
  const first = await createMqttTransport({ url, qos: 1 });
  const second = await createMqttTransport({ url, qos: 1 });
  first.status({ handler: (event) => void (event.type === 'disconnected' && reports.push(event.error.message)) });
  // The second loses the session back to the first, too, until close ends both: that is watched, not printed.
  second.status({ handler: () => undefined });
  try {
    await first.subscribe(uniqueName('takeover'), { durable });
    await second.subscribe(uniqueName('takeover'), { durable });
    const deadline = Date.now() + 3000;
    while (reports.length === 0 && Date.now() < deadline) await sleep(10);
    expect(reports[0]).toMatch(/the subscription to "conf\.takeover\.\w+" lost its connection to the broker; .*two subscribers use the durable name/);
  } finally {
    // Each would take the session back after a reconnect: closing ends that.
    await Promise.all([first.close(), second.close()]);
    const cleanup = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: durable, clean: true, reconnectPeriod: 0 });
    await cleanup.endAsync();
  }
});
