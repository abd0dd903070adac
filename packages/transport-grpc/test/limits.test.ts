import { type ClientDuplexStream, type ServiceClientConstructor, credentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcTransport, createGrpcTransport, protoPath } from '../src/index.js';

const utf8 = (value: string) => Buffer.from(value);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const maxPayload = 64 * 1024;

interface RawFrame {
  envelope?: { subject: string; data: Buffer; kind: string; id?: string } | null;
  open?: { role: string; subject: string; queue?: string } | null;
  ack?: object | null;
  ref?: number;
}

// A client written straight on grpc-js and the proto, as a foreign program would: it can send what
// our transport never sends (oversized frames) and not read what it is sent.
const definition = loadSync(protoPath, { keepCase: true, enums: String, defaults: true, oneofs: true });
const Messaging = (loadPackageDefinition(definition) as unknown as { msg: { v1: { Messaging: ServiceClientConstructor } } }).msg.v1.Messaging;

function rawStream(address: string): { stream: ClientDuplexStream<RawFrame, RawFrame>; close(): void } {
  const client = new Messaging(address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  const stream = (client as unknown as { Stream(): ClientDuplexStream<RawFrame, RawFrame> }).Stream();
  return {
    stream,
    close: () => {
      stream.cancel();
      client.close();
    },
  };
}

function nextFrame(stream: ClientDuplexStream<RawFrame, RawFrame>): Promise<RawFrame> {
  return new Promise((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });
}

describe('limits', () => {
  let host: GrpcTransport;
  let client: GrpcTransport;

  beforeAll(async () => {
    host = await createGrpcTransport({ listen: '127.0.0.1:0', maxPayload, maxQueued: 100 });
    client = await createGrpcTransport({ connect: host.address, maxPayload });
    await host.reply('limits.echo', (request) => ({ data: request.data, headers: request.headers }));
  });

  afterAll(async () => {
    await client.close();
    await host.close();
  });

  it('declares the maxPayload it was given; exactly that round-trips and one byte more is PAYLOAD_TOO_LARGE', async () => {
    expect(client.capabilities.maxPayload).toBe(maxPayload);
    const full = new Uint8Array(maxPayload).fill(9);
    expect((await client.request('limits.echo', full)).data.length).toBe(maxPayload);
    await expect(client.request('limits.echo', new Uint8Array(maxPayload + 1))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('headers that would push a frame past the gRPC limit are PAYLOAD_TOO_LARGE, and the stream stays up', async () => {
    const huge = { big: 'x'.repeat(200 * 1024) };
    await expect(client.request('limits.echo', utf8('x'), { headers: huge })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expect(client.publish('limits.topic', utf8('x'), { headers: huge })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(text((await client.request('limits.echo', utf8('still up'))).data)).toBe('still up');
  });

  it('an oversized frame from a foreign client ends its call with RESOURCE_EXHAUSTED; the host keeps serving', async () => {
    const raw = rawStream(host.address);
    try {
      const failed = new Promise<{ code: number }>((resolve) => raw.stream.once('error', resolve));
      raw.stream.write({ envelope: { subject: 'limits.topic', data: Buffer.alloc(1024 * 1024), kind: 'PUBLISH' } });
      expect((await failed).code).toBe(status.RESOURCE_EXHAUSTED);
    } finally {
      raw.close();
    }
    expect(text((await client.request('limits.echo', utf8('after'))).data)).toBe('after');
  });

  it('a client that does not read is bounded at the host: others keep receiving, it loses what overflowed', async () => {
    const raw = rawStream(host.address);
    try {
      raw.stream.write({ open: { role: 'SUBSCRIBER', subject: 'limits.flood' }, ref: 1 });
      expect((await nextFrame(raw.stream)).ack).toBeTruthy();
      raw.stream.pause();

      const reader = (await client.subscribe('limits.flood', { maxPending: 100_000 }))[Symbol.asyncIterator]();
      const count = 3000;
      const batch = 50;
      const payload = new Uint8Array(1024);
      // In batches that the reading subscriber takes in full before the next: it gets every
      // message although another subscriber is stuck.
      for (let sent = 0; sent < count; sent += batch) {
        for (let i = 0; i < batch; i++) await host.publish('limits.flood', payload);
        for (let i = 0; i < batch; i++) expect((await reader.next()).done).toBe(false);
      }

      // Once it reads again, the stuck client gets what the host held for it (at most 100 frames)
      // and what flow control had let through, then an end marker: far from all 3000.
      let received = 0;
      let ended = false;
      let onFrame: () => void = () => undefined;
      raw.stream.on('data', (frame: RawFrame) => {
        if (frame.envelope?.data.length === 3) ended = true;
        else received++;
        onFrame();
      });
      raw.stream.resume();
      // A marker published while the host's queue for it is still full is dropped too: publish
      // another after each frame it receives, until one arrives. Each round consumes a frame.
      for (let round = 0; !ended && round < count; round++) {
        const next = new Promise<void>((resolve) => (onFrame = resolve));
        await host.publish('limits.flood', utf8('end'));
        await next;
      }
      expect(ended).toBe(true);
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(count / 2);
    } finally {
      raw.close();
    }
  });
});
