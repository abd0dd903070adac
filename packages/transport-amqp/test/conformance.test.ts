import { checkBroker, describeTransport } from '@msg/conformance';
import { afterAll } from 'vitest';
import { type AmqpOptions, amqpCapabilities, amqpConfirmedCapabilities, createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost } from './broker.js';

// Both profiles run the whole suite in a vhost of their own, removed afterwards with whatever
// durable queues the suite left (durable subscriptions outlive their subscribers by design).
const skip = await checkBroker('RabbitMQ', HOST, PORT);
const place: TestVhost | undefined = skip ? undefined : await createVhost('conformance');
afterAll(() => place?.remove(), 60_000);

const connect = (options: AmqpOptions) => () => createAmqpTransport({ url: place?.url, ...options });

describeTransport({ name: 'amqp', capabilities: amqpCapabilities, connect: connect({}), skip });
describeTransport({
  name: 'amqp at-least-once',
  capabilities: amqpConfirmedCapabilities,
  connect: connect({ delivery: 'at-least-once' }),
  skip,
});
