// The size limit follows the broker: a mosquitto of this test's own with `max_packet_size` sends it
// in CONNACK, the declared maximum is that less HEADER_ROOM, exactly the maximum round-trips, one
// byte more is PAYLOAD_TOO_LARGE, and so is data that fits but whose headers make the packet too
// large; the connection stays usable after each refusal (mosquitto would have dropped it). The cases
// are @msg/conformance's brokerLimitCases, shared with the AMQP 1.0 adapter.

import { brokerLimitCases } from '@msg/conformance';
import { afterAll, beforeAll, describe } from 'vitest';
import { HEADER_ROOM, createMqttTransport } from '../src/index.js';
import { TestBroker } from './server.js';

const PACKET_LIMIT = 65_536;
let broker: TestBroker;
beforeAll(async () => {
  broker = await TestBroker.start({ config: [`max_packet_size ${PACKET_LIMIT}`] });
});
afterAll(() => broker.stop());

describe.each([0, 1] as const)('QoS %i against a broker with max_packet_size', (qos) => {
  brokerLimitCases({
    connect: () => createMqttTransport({ url: broker.url, qos }),
    limit: PACKET_LIMIT,
    headerRoom: HEADER_ROOM,
    overflow: /data of 61440 bytes plus topic, properties and framing of \d+ bytes/,
  });
});
