// The size limit follows the broker: an ActiveMQ of this test's own whose AMQP connector has
// transport.maxFrameSize 65536, and the adapter told the same. The declared maximum is that less
// HEADER_ROOM, exactly the maximum round-trips, one byte more is PAYLOAD_TOO_LARGE, and so is data
// that fits but whose headers make the message too large; the connection stays usable after each
// refusal (the broker would have dropped it for a message over its limit).

import { Reader } from '@msg/conformance';
import { type Transport, text } from '@msg/core';
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
  async function transport(): Promise<Transport> {
    const t = await createAmqp1Transport({ url: broker.url, confirm, maxFrameSize: FRAME_LIMIT });
    open.push(t);
    return t;
  }

  it("declares the broker's limit less HEADER_ROOM, and exactly that round-trips", async () => {
    const [a, b] = [await transport(), await transport()];
    const max = FRAME_LIMIT - HEADER_ROOM;
    expect(a.capabilities.maxPayload).toBe(max);
    const reader = new Reader(await a.subscribe('payload.max'));
    await b.publish('payload.max', new Uint8Array(max).fill(7));
    const [got] = await reader.take(1, 5000);
    expect(got?.data.length).toBe(max);
  });

  it('one byte over is PAYLOAD_TOO_LARGE, and the connection is still usable', async () => {
    const [a, b] = [await transport(), await transport()];
    await expect(b.publish('payload.over', new Uint8Array(a.capabilities.maxPayload + 1))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const reader = new Reader(await a.subscribe('payload.after'));
    await b.publish('payload.after', text.encode('still here'));
    expect(text.decode((await reader.take(1, 5000))[0]?.data ?? new Uint8Array())).toBe('still here');
  });

  it('data within the maximum with headers that overflow the message is PAYLOAD_TOO_LARGE naming both parts', async () => {
    const [a, b] = [await transport(), await transport()];
    const data = new Uint8Array(a.capabilities.maxPayload);
    const headers = { big: 'x'.repeat(HEADER_ROOM) };
    const error = await b.publish('payload.headers', data, { headers }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limit: FRAME_LIMIT, message: expect.stringMatching(/data of 61440 bytes plus addresses, headers and encoding of \d+ bytes/) });
    // A request too large in the same way is refused before it is sent, not left to time out.
    await a.reply('payload.service', (request) => request.data);
    await expect(b.request('payload.service', data, { headers })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(text.decode((await b.request('payload.service', text.encode('usable'))).data)).toBe('usable');
  });

  it('a reply too large for the message reaches the requester as REMOTE PAYLOAD_TOO_LARGE', async () => {
    const [a, b] = [await transport(), await transport()];
    await a.reply('payload.bigreply', () => ({ data: new Uint8Array(a.capabilities.maxPayload), headers: { big: 'x'.repeat(HEADER_ROOM) } }));
    await expect(b.request('payload.bigreply', text.encode('?'))).rejects.toMatchObject({ code: 'REMOTE', remoteCode: 'PAYLOAD_TOO_LARGE' });
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
