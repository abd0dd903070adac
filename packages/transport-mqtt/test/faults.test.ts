// The shared fault cases on a mosquitto of this test's own, stopped under load and started again:
// QoS 0 on a broker killed with SIGKILL; the QoS 1 profile on one with persistence, stopped with
// SIGTERM (mosquitto writes what it holds on the way out; it keeps nothing it did not write).

import { describeFaults } from '@msg/conformance';
import { afterAll, beforeAll } from 'vitest';
import { createMqttTransport, mqttCapabilities, mqttQos1Capabilities } from '../src/index.js';
import { TestBroker } from './server.js';

const brokers: TestBroker[] = [];
afterAll(() => Promise.all(brokers.map((broker) => broker.stop())));

for (const qos of [0, 1] as const) {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await TestBroker.start({ persistence: qos === 1 });
    brokers.push(broker);
  });
  const signal = qos === 1 ? 'SIGTERM' : 'SIGKILL';
  describeFaults({
    name: qos === 1 ? 'mqtt+qos1' : 'mqtt',
    capabilities: qos === 1 ? mqttQos1Capabilities : mqttCapabilities,
    hooks: {
      fault: `the broker is stopped (${signal}) and started again${qos === 1 ? ' with its persistence' : ''}`,
      connect: () => createMqttTransport({ url: broker.url, qos, reconnectPeriod: 100 }),
      down: () => broker.kill(signal),
      up: () => broker.restart(),
    },
  });
}
