// The largest message on NATS: data up to the declared maximum passes the core, and the client
// refuses data and headers that together exceed the server's max_payload. The error says both.

import { checkBroker, uniqueName } from '@msg/conformance';
import { type Transport, isMsgError } from '@msg/core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsTransport } from '../src/index.js';

const servers = 'nats://127.0.0.1:4222';
const skip = await checkBroker('NATS', '127.0.0.1', 4222);
const TOO_LARGE = /data of (\d+) bytes plus headers of (\d+) bytes make (\d+) bytes, over the server's max_payload of (\d+) bytes/;

describe.skipIf(skip)('nats: data of the maximum size with headers past the room for them', () => {
  let transport: Transport;
  let serverMax: number;
  beforeAll(async () => {
    transport = await createNatsTransport({ servers });
    const native = await connect({ servers });
    serverMax = native.info?.max_payload ?? 0;
    await native.close();
  });
  afterAll(() => transport.close());

  const headers = { note: 'x'.repeat(5000) };
  const sends = {
    publish: (data: Uint8Array) => transport.publish(uniqueName('big'), data, { headers }),
    request: (data: Uint8Array) => transport.request(uniqueName('big'), data, { headers, timeout: 1000 }),
  };

  for (const [name, send] of Object.entries(sends)) {
    it(`${name}: PAYLOAD_TOO_LARGE names the data and the headers, and its figures are those the client counts`, async () => {
      const max = transport.capabilities.maxPayload;
      const error: unknown = await send(new Uint8Array(max)).then(
        () => 'sent',
        (e: unknown) => e,
      );
      expect(isMsgError(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
      const { message, size, limit } = error as Error & { size: number; limit: number };
      const [data, headerBytes, total, serverLimit] = (TOO_LARGE.exec(message) ?? []).slice(1).map(Number);
      expect(data).toBe(max);
      expect(headerBytes).toBeGreaterThan(headers.note.length);
      expect(total).toBe(max + (headerBytes as number));
      expect(serverLimit).toBe(serverMax);
      expect({ size, limit }).toEqual({ size: total, limit: serverMax });
      // Data shorter by exactly the excess fits with the same headers; one byte more does not.
      const fits = max - (size - limit);
      await expect(send(new Uint8Array(fits + 1))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', size: limit + 1 });
      const sent = await send(new Uint8Array(fits)).then(
        () => 'sent',
        (e: { code?: string }) => e.code,
      );
      // A publish is sent; a request is sent and finds nobody serving its subject.
      expect(sent).toBe(name === 'publish' ? 'sent' : 'NO_RESPONDERS');
    });
  }

  it('a reply of the maximum data with headers past the room reaches the requester as REMOTE PAYLOAD_TOO_LARGE with both parts', async () => {
    const service = uniqueName('bigreply');
    const replier = await createNatsTransport({ servers });
    try {
      await replier.reply(service, () => ({ data: new Uint8Array(replier.capabilities.maxPayload), headers }));
      const error = await transport.request(service, new Uint8Array(1), { timeout: 5000 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'REMOTE', remoteCode: 'PAYLOAD_TOO_LARGE' });
      const [data, headerBytes, total, serverLimit] = (TOO_LARGE.exec((error as Error).message) ?? []).slice(1).map(Number);
      expect(data).toBe(replier.capabilities.maxPayload);
      expect(total).toBe((data as number) + (headerBytes as number));
      expect(serverLimit).toBe(serverMax);
    } finally {
      await replier.close();
    }
  });
});
