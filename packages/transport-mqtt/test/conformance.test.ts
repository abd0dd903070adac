import { checkBroker, describeTransport } from '@msg/conformance';
import { createMqttTransport, mqttCapabilities, mqttQos1Capabilities } from '../src/index.js';

const url = 'mqtt://127.0.0.1:1883';
const skip = await checkBroker('Mosquitto', '127.0.0.1', 1883);

describeTransport({ name: 'mqtt', capabilities: mqttCapabilities, skip, connect: () => createMqttTransport({ url }) });
describeTransport({ name: 'mqtt+qos1', capabilities: mqttQos1Capabilities, skip, connect: () => createMqttTransport({ url, qos: 1 }) });
