import { checkBroker, describeTransport } from '@msg/conformance';
import { amqp1Capabilities, amqp1ConfirmCapabilities, createAmqp1Transport } from '../src/index.js';

const url = 'amqp1://127.0.0.1:5673';
const skip = await checkBroker('ActiveMQ (AMQP 1.0)', '127.0.0.1', 5673);

describeTransport({ name: 'amqp1', capabilities: amqp1Capabilities, skip, connect: () => createAmqp1Transport({ url }) });
describeTransport({ name: 'amqp1+confirm', capabilities: amqp1ConfirmCapabilities, skip, connect: () => createAmqp1Transport({ url, confirm: true }) });
