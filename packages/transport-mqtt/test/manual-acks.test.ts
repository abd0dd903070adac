// MQTT requires PUBACKs in the order the messages came, and MQTT.js reads a subscription's next
// message only once the one before is acknowledged: with `ack: 'manual'` a QoS 1 subscription holds
// one unsettled message at a time, whatever maxPending says.

import { Reader, checkBroker, str, uniqueName, utf8 } from '@msg/conformance';
import type { AckableMessage } from '@msg/core';
import { expect, it } from 'vitest';
import { createMqttTransport } from '../src/index.js';

const skip = await checkBroker('Mosquitto', '127.0.0.1', 1883);
const url = 'mqtt://127.0.0.1:1883';

it.skipIf(skip)('manual acks: the next message arrives once the one before is settled, not before', async () => {
  const [publisher, subscriber] = await Promise.all([createMqttTransport({ url, qos: 1 }), createMqttTransport({ url, qos: 1 })]);
  try {
    const topic = uniqueName('inorder');
    const reader = new Reader<AckableMessage>(await subscriber.subscribe(topic, { ack: 'manual', maxPending: 10 }));
    for (const text of ['1', '2']) await publisher.publish(topic, utf8(text));
    const [first] = await reader.take(1, 4000);
    expect(str(first!.data)).toBe('1');
    expect(await reader.next(500)).toBeUndefined();
    first!.ack();
    const [second] = await reader.take(1, 4000);
    expect(str(second!.data)).toBe('2');
    second!.ack();
  } finally {
    await Promise.all([publisher.close(), subscriber.close()]);
  }
});
