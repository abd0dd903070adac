import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcTransport, createGrpcTransport } from '../src/index.js';

const utf8 = (value: string) => Buffer.from(value);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

let host: GrpcTransport;
beforeAll(async () => {
  host = await createGrpcTransport({ listen: '127.0.0.1:0' });
});
afterAll(async () => {
  await host.close();
});

/** A client that does one thing and closes at once, as a short-lived process does. */
async function connectAndClose(send: (client: GrpcTransport) => Promise<unknown>, options = {}): Promise<void> {
  const client = await createGrpcTransport({ connect: `grpc://${host.address}`, ...options });
  await send(client);
  await client.close();
}

describe('close', () => {
  it('a message whose publish resolved reaches the host even when the client closes at once', async () => {
    const received = (await host.subscribe('close.one'))[Symbol.asyncIterator]();
    await connectAndClose((client) => client.publish('close.one', utf8('one')));
    expect(text((await received.next()).value.data)).toBe('one');
  });

  it('a burst of publishes followed by close arrives whole and in order', async () => {
    const received = (await host.subscribe('close.burst', { maxPending: 10_000 }))[Symbol.asyncIterator]();
    const count = 500;
    // A small outbox, so that most publishes wait for room and close finds frames still queued.
    await connectAndClose(async (client) => {
      for (let i = 0; i < count; i++) await client.publish('close.burst', utf8(String(i)));
    }, { maxQueued: 8 });
    for (let i = 0; i < count; i++) expect(text((await received.next()).value.data)).toBe(String(i));
  });

  it('publishes made together, then close, all arrive', async () => {
    const received = (await host.subscribe('close.together', { maxPending: 10_000 }))[Symbol.asyncIterator]();
    const count = 200;
    await connectAndClose((client) => Promise.all(Array.from({ length: count }, (_, i) => client.publish('close.together', utf8(String(i))))));
    for (let i = 0; i < count; i++) expect(text((await received.next()).value.data)).toBe(String(i));
  });

  it('bus sends followed by close reach the other members', async () => {
    const member = (await host.join('close.bus'))[Symbol.asyncIterator]();
    const count = 200;
    await connectAndClose(async (client) => {
      const link = await client.join('close.bus');
      await Promise.all(Array.from({ length: count }, (_, i) => link.send(utf8(String(i)))));
    }, { maxQueued: 4 });
    for (let i = 0; i < count; i++) expect(text((await member.next()).value.data)).toBe(String(i));
  });

  it('close still fails a request in flight with CLOSED, and the client can be closed twice', async () => {
    await host.reply('close.hang', () => new Promise(() => undefined));
    const client = await createGrpcTransport({ connect: `grpc://${host.address}` });
    const pending = client.request('close.hang', utf8('?'), { timeout: 60_000 });
    // Answered after the hanging request reached the host: requests travel one stream in order.
    await host.reply('close.echo', (request) => request.data);
    expect(text((await client.request('close.echo', utf8('x'))).data)).toBe('x');
    const closing = client.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await closing;
    await client.close();
    await expect(client.publish('close.after', utf8('late'))).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
