// The shared fault cases on an ActiveMQ of this test's own, killed (SIGKILL, by its pid) under load
// and started again on its data: requests in flight fail with CONNECTION, subscriptions and
// repliers resume, and in the at-least-once profile nothing whose publish resolved is lost, the
// broker having been killed without a chance to write anything more.

import { describeFaults } from '@msg/conformance';
import { afterAll, beforeAll } from 'vitest';
import { amqp1Capabilities, amqp1ConfirmCapabilities, createAmqp1Transport } from '../src/index.js';
import { TestBroker, ownBrokerMissing } from './broker.js';

const skip = await ownBrokerMissing();
let broker: TestBroker | undefined;
beforeAll(async () => {
  if (!skip) broker = await TestBroker.start();
}, 120_000);
afterAll(() => broker?.stop(), 60_000);

for (const confirm of [false, true]) {
  describeFaults({
    name: confirm ? 'amqp1+confirm' : 'amqp1',
    capabilities: confirm ? amqp1ConfirmCapabilities : amqp1Capabilities,
    skip,
    hooks: {
      fault: 'the broker is killed (SIGKILL) and started again on its data',
      connect: () => createAmqp1Transport({ url: broker!.url, confirm, reconnectPeriod: 100 }),
      down: () => broker!.kill('SIGKILL'),
      up: () => broker!.restart(),
    },
  });
}
