// The shared fault cases on RabbitMQ: every connection to this test's own vhost is closed by the
// broker (as a broker restart or a network failure would end them), for both profiles. The
// machine's RabbitMQ is shared, so it is never stopped: the cut is the fault.

import { checkBroker, describeFaults } from '@msg/conformance';
import { afterAll, beforeAll } from 'vitest';
import { amqpCapabilities, amqpConfirmedCapabilities, createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);
let place: TestVhost | undefined;
beforeAll(async () => {
  if (!skip) place = await createVhost('faults');
});
afterAll(() => place?.remove());

for (const delivery of ['at-most-once', 'at-least-once'] as const) {
  describeFaults({
    name: delivery === 'at-least-once' ? 'amqp+confirm' : 'amqp',
    capabilities: delivery === 'at-least-once' ? amqpConfirmedCapabilities : amqpCapabilities,
    skip,
    hooks: {
      fault: 'the broker closes every connection to the vhost',
      connect: () => createAmqpTransport({ url: place!.url, delivery, reconnect: { initialDelayMs: 50, maxDelayMs: 1000 } }),
      down: () => place!.cutConnections(),
      up: async () => undefined,
    },
  });
}
