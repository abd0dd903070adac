// Cases for an adapter whose maximum payload follows the broker's limit on a whole message, less
// room it keeps for everything else (addresses, headers, framing): the declared maximum is the limit
// less that room, exactly the maximum round-trips, one byte more is PAYLOAD_TOO_LARGE, and so is
// data that fits but whose headers make the message too large; the connection stays usable after
// each refusal (a broker would have dropped it).

import { type Transport, text } from '@msg/core';
import { afterEach, expect, it } from 'vitest';
import { Reader } from './helpers.js';

export interface BrokerLimitUnderTest {
  /** A new transport on a broker whose limit on a whole message is `limit`. */
  connect: () => Promise<Transport>;
  /** The broker's limit, in bytes. */
  limit: number;
  /** What the adapter keeps of the limit for everything but the data. */
  headerRoom: number;
  /** How the refusal of data within the maximum with headers too large names both parts. */
  overflow: RegExp;
}

/** Registers the cases in the `describe` that calls it; each closes the transports it opened. */
export function brokerLimitCases({ connect, limit, headerRoom, overflow }: BrokerLimitUnderTest): void {
  let open: Transport[] = [];
  afterEach(async () => {
    await Promise.all(open.map((t) => t.close()));
    open = [];
  });
  async function pair(): Promise<[Transport, Transport]> {
    const both: [Transport, Transport] = [await connect(), await connect()];
    open.push(...both);
    return both;
  }

  it("declares the broker's limit less its header room, and exactly that round-trips", async () => {
    const [a, b] = await pair();
    const max = limit - headerRoom;
    expect(a.capabilities.maxPayload).toBe(max);
    const reader = new Reader(await a.subscribe('payload.max'));
    await b.publish('payload.max', new Uint8Array(max).fill(7));
    const [got] = await reader.take(1, 5000);
    expect(got?.data.length).toBe(max);
  });

  it('one byte over is PAYLOAD_TOO_LARGE, and the connection is still usable', async () => {
    const [a, b] = await pair();
    await expect(b.publish('payload.over', new Uint8Array(a.capabilities.maxPayload + 1))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const reader = new Reader(await a.subscribe('payload.after'));
    await b.publish('payload.after', text.encode('still here'));
    expect(text.decode((await reader.take(1, 5000))[0]?.data ?? new Uint8Array())).toBe('still here');
  });

  it('data within the maximum with headers that overflow the message is PAYLOAD_TOO_LARGE naming both parts', async () => {
    const [a, b] = await pair();
    const data = new Uint8Array(a.capabilities.maxPayload);
    const headers = { big: 'x'.repeat(headerRoom) };
    const error = await b.publish('payload.headers', data, { headers }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limit, message: expect.stringMatching(overflow) });
    // A request too large in the same way is refused before it is sent, not left to time out.
    await a.reply('payload.service', (request) => request.data);
    await expect(b.request('payload.service', data, { headers })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(text.decode((await b.request('payload.service', text.encode('usable'))).data)).toBe('usable');
  });

  it('a reply too large for the message reaches the requester as REMOTE PAYLOAD_TOO_LARGE', async () => {
    const [a, b] = await pair();
    await a.reply('payload.bigreply', () => ({ data: new Uint8Array(a.capabilities.maxPayload), headers: { big: 'x'.repeat(headerRoom) } }));
    await expect(b.request('payload.bigreply', text.encode('?'))).rejects.toMatchObject({ code: 'REMOTE', remoteCode: 'PAYLOAD_TOO_LARGE' });
  });
}
