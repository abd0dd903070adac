import { connect } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type GrpcTransport, createGrpcTransport } from '../src/index.js';

const utf8 = (value: string) => Buffer.from(value);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  // Clients first, then hosts, so that no client sees its host vanish.
  for (const transport of open.splice(0).reverse()) await transport.close();
});

async function hostAndClient(): Promise<[GrpcTransport, GrpcTransport]> {
  const host = await createGrpcTransport({ listen: '127.0.0.1:0' });
  open.push(host);
  const client = await createGrpcTransport({ connect: `grpc://${host.address}` });
  open.push(client);
  return [host, client];
}

describe('host', () => {
  it('reports the port it bound when asked for port 0', async () => {
    const [host] = await hostAndClient();
    expect(host.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  });

  it('the host serves requests from its clients, and its clients serve the host', async () => {
    const [host, client] = await hostAndClient();
    await host.reply('host.svc', (request) => utf8(`host:${text(request.data)}`));
    await client.reply('client.svc', (request) => utf8(`client:${text(request.data)}`));
    expect(text((await client.request('host.svc', utf8('a'))).data)).toBe('host:a');
    expect(text((await host.request('client.svc', utf8('b'))).data)).toBe('client:b');
  });

  it('publish and subscribe cross between the host and a client both ways', async () => {
    const [host, client] = await hostAndClient();
    const atHost = (await host.subscribe('ps.to-host'))[Symbol.asyncIterator]();
    const atClient = (await client.subscribe('ps.>'))[Symbol.asyncIterator]();
    await client.publish('ps.to-host', utf8('up'));
    await host.publish('ps.down', utf8('down'));
    expect(text((await atHost.next()).value.data)).toBe('up');
    const first = (await atClient.next()).value;
    const second = (await atClient.next()).value;
    expect([first.subject, second.subject].sort()).toEqual(['ps.down', 'ps.to-host']);
  });

  it('several repliers of a service are asked in turn by the host', async () => {
    const [host, client] = await hostAndClient();
    const other = await createGrpcTransport({ connect: host.address });
    open.push(other);
    const seen: string[] = [];
    await client.reply('rr.svc', () => (seen.push('client'), utf8('client')));
    await other.reply('rr.svc', () => (seen.push('other'), utf8('other')));
    await host.reply('rr.svc', () => (seen.push('host'), utf8('host')));
    for (let i = 0; i < 6; i++) await host.request('rr.svc', utf8(String(i)));
    expect(seen.filter((who) => who === 'client').length).toBe(2);
    expect(seen.filter((who) => who === 'other').length).toBe(2);
    expect(seen.filter((who) => who === 'host').length).toBe(2);
  });

  it('a survey from a client reaches the host and the other clients', async () => {
    const [host, client] = await hostAndClient();
    const other = await createGrpcTransport({ connect: host.address });
    open.push(other);
    await host.respond('sv.who', () => utf8('host'));
    await other.respond('sv.who', () => utf8('other'));
    const answers = await client.survey('sv.who', utf8('?'), { deadline: 300 }).toArray();
    expect(answers.map((answer) => text(answer.data)).sort()).toEqual(['host', 'other']);
  });

  it('a bus group spans the host and its clients', async () => {
    const [host, client] = await hostAndClient();
    const atHost = await host.join('bus.g');
    const atClient = await client.join('bus.g');
    await atClient.send(utf8('from client'));
    await atHost.send(utf8('from host'));
    expect(text((await atHost[Symbol.asyncIterator]().next()).value.data)).toBe('from client');
    expect(text((await atClient[Symbol.asyncIterator]().next()).value.data)).toBe('from host');
  });

  it('a client request to a service nobody serves fails with NO_RESPONDERS', async () => {
    const [, client] = await hostAndClient();
    await expect(client.request('nobody.here', utf8('?'))).rejects.toMatchObject({ code: 'NO_RESPONDERS' });
  });

  it('grpc+listen:// hosts and grpc:// connects through the registry', async () => {
    const host = (await connect('grpc+listen://127.0.0.1:0')) as GrpcTransport;
    open.push(host);
    const client = await connect(`grpc://${host.address}`);
    open.push(client);
    await host.reply('registry.svc', (request) => request.data);
    expect(text((await client.request('registry.svc', utf8('via url'))).data)).toBe('via url');
  });

  it('a client fails with CONNECTION when nothing listens at the address', async () => {
    const host = await createGrpcTransport({ listen: '127.0.0.1:0' });
    const address = host.address;
    await host.close();
    await expect(createGrpcTransport({ connect: address, connectTimeout: 3000 })).rejects.toMatchObject({ code: 'CONNECTION' });
  });
});
