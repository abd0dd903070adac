// The size limit follows the broker: a mosquitto of this test's own with `max_packet_size` sends it
// in CONNACK, the declared maximum is that less HEADER_ROOM, exactly the maximum round-trips, one
// byte more is PAYLOAD_TOO_LARGE, and so is data that fits but whose headers make the packet too
// large; the connection stays usable after each refusal (mosquitto would have dropped it).

import { Reader } from '@msg/conformance';
import { type Transport, text } from '@msg/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_ROOM, createMqttTransport } from '../src/index.js';
import { TestBroker } from './server.js';

const PACKET_LIMIT = 65_536;
let broker: TestBroker;
let open: Transport[] = [];
beforeAll(async () => {
  broker = await TestBroker.start({ config: [`max_packet_size ${PACKET_LIMIT}`] });
});
afterAll(() => broker.stop());
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});

describe.each([0, 1] as const)('QoS %i against a broker with max_packet_size', (qos) => {
  async function transport(): Promise<Transport> {
    const t = await createMqttTransport({ url: broker.url, qos });
    open.push(t);
    return t;
  }

  it('declares the broker\'s limit less HEADER_ROOM, and exactly that round-trips', async () => {
    const [a, b] = [await transport(), await transport()];
    const max = PACKET_LIMIT - HEADER_ROOM;
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

  it('data within the maximum with headers that overflow the packet is PAYLOAD_TOO_LARGE naming both parts', async () => {
    const [a, b] = [await transport(), await transport()];
    const data = new Uint8Array(a.capabilities.maxPayload);
    const headers = { big: 'x'.repeat(HEADER_ROOM) };
    const error = await b.publish('payload.headers', data, { headers }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limit: PACKET_LIMIT, message: expect.stringMatching(/data of 61440 bytes plus topic, properties and framing of \d+ bytes/) });
    // A request too large in the same way is refused before it is sent, not left to time out.
    await a.reply('payload.service', (request) => request.data);
    await expect(b.request('payload.service', data, { headers })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(text.decode((await b.request('payload.service', text.encode('usable'))).data)).toBe('usable');
  });

  it('a reply too large for the packet reaches the requester as REMOTE PAYLOAD_TOO_LARGE', async () => {
    const [a, b] = [await transport(), await transport()];
    await a.reply('payload.bigreply', () => ({ data: new Uint8Array(a.capabilities.maxPayload), headers: { big: 'x'.repeat(HEADER_ROOM) } }));
    await expect(b.request('payload.bigreply', text.encode('?'))).rejects.toMatchObject({ code: 'REMOTE', remoteCode: 'PAYLOAD_TOO_LARGE' });
  });
});
