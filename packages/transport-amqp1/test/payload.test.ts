// The size limit follows the broker: an ActiveMQ of this test's own whose AMQP connector has
// transport.maxFrameSize 65536, and the adapter told the same. The declared maximum is that less
// HEADER_ROOM, exactly the maximum round-trips, one byte more is PAYLOAD_TOO_LARGE, and so is data
// that fits but whose headers make the message too large; the connection stays usable after each
// refusal (the broker would have dropped it for a message over its limit). Those cases are
// @msg/conformance's brokerLimitCases, shared with the MQTT adapter.

import { brokerLimitCases } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_ROOM, createAmqp1Transport } from '../src/index.js';
import { TestBroker, ownBrokerMissing } from './broker.js';

const skip = await ownBrokerMissing();
const FRAME_LIMIT = 65_536;
let broker: TestBroker;
let open: Transport[] = [];
beforeAll(async () => {
  if (!skip) broker = await TestBroker.start({ maxFrameSize: FRAME_LIMIT });
}, 120_000);
afterAll(() => broker?.stop(), 60_000);
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});

describe.skipIf(skip).each([false, true])('confirm: %s, against a broker with transport.maxFrameSize', (confirm) => {
  brokerLimitCases({
    connect: () => createAmqp1Transport({ url: broker.url, confirm, maxFrameSize: FRAME_LIMIT }),
    limit: FRAME_LIMIT,
    headerRoom: HEADER_ROOM,
    overflow: /data of 61440 bytes plus addresses, headers and encoding of \d+ bytes/,
  });
});

describe.skipIf(skip)('a message over the broker\'s limit that the adapter was not told of', () => {
  it('is refused by the broker, which drops the connection: so the option must match the connector', async () => {
    const errors: string[] = [];
    const t = await createAmqp1Transport({ url: broker.url, reconnectPeriod: 0 });
    t.status({ handler: (event) => void ((event.type === 'error' || event.type === 'disconnected') && errors.push(event.error.message)) });
    open.push(t);
    await t.publish('payload.unknown', new Uint8Array(FRAME_LIMIT * 2));
    const deadline = Date.now() + 5000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors.join('\n')).toMatch(/lost|decode-error/);
  });
});

describe('maxFrameSize', () => {
  it.each([0, 4096, Number.NaN, 1.5])('%s is refused with INVALID_ARGUMENT before connecting', async (maxFrameSize) => {
    await expect(createAmqp1Transport({ url: 'amqp1://127.0.0.1:1', maxFrameSize })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/transport\.maxFrameSize/) });
  });
});
