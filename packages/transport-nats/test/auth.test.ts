// Credentials and TLS against servers of this test's own: a wrong secret is a clear CONNECTION
// error that never shows the secret, the right one connects, and TLS options reach the client.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, isMsgError, text } from '@msg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsTransport } from '../src/index.js';
import { everythingShown, freePort } from '@msg/conformance';
import { TestServer } from './server.js';

const token = `right-${Math.random().toString(36).slice(2)}`;
const wrong = `wrong-${Math.random().toString(36).slice(2)}`;

async function roundTrips(url: string, options: Parameters<typeof createNatsTransport>[0]): Promise<string> {
  const transport = await createNatsTransport({ servers: url, ...options });
  try {
    await transport.reply('auth.echo', (request) => request.data);
    return text.decode((await transport.request('auth.echo', text.encode('hello'))).data);
  } finally {
    await transport.close();
  }
}

describe('token authentication', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start({ args: ['--auth', token] });
  });
  afterAll(() => server.stop());

  it('a wrong token is a CONNECTION error that does not contain the token', async () => {
    const error = await createNatsTransport({ servers: server.url, token: wrong }).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect((error as Error).message).toMatch(/credentials|authorization/i);
    expect(everythingShown(error)).not.toContain(wrong);
  });

  it('a wrong token inside the URL does not show in the error either', async () => {
    const error = await connect(`nats://${wrong}@127.0.0.1:${server.port}`).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect(everythingShown(error)).not.toContain(wrong);
  });

  it('no token at all is a CONNECTION error', async () => {
    await expect(createNatsTransport({ servers: server.url })).rejects.toMatchObject({ code: 'CONNECTION' });
  });

  it('the right token connects, as an option or inside the URL', async () => {
    expect(await roundTrips(server.url, { token })).toBe('hello');
    const transport = await connect(`nats://${token}@127.0.0.1:${server.port}`);
    expect(transport.name).toBe('nats');
    await transport.close();
  });
});

describe('no server', () => {
  it('connecting to a port where nothing listens is a CONNECTION error, not a hang', async () => {
    const port = await freePort();
    await expect(createNatsTransport({ servers: `nats://127.0.0.1:${port}` })).rejects.toMatchObject({ code: 'CONNECTION' });
  });
});

describe('TLS', () => {
  let dir: string;
  let server: TestServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'msg-nats-tls-'));
    // One self-signed certificate for 127.0.0.1 (and localhost, the name Node checks when given an IP), trusted by the client as its own CA.
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    server = await TestServer.start({ args: ['--tls', '--tlscert', join(dir, 'cert.pem'), '--tlskey', join(dir, 'key.pem')] });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the tls options reach the client: with the CA it connects', async () => {
    expect(await roundTrips(`tls://127.0.0.1:${server.port}`, { tls: { caFile: join(dir, 'cert.pem') } })).toBe('hello');
  });

  it('without the CA the self-signed certificate is refused with a CONNECTION error', async () => {
    await expect(createNatsTransport({ servers: `tls://127.0.0.1:${server.port}`, tls: {} })).rejects.toMatchObject({
      code: 'CONNECTION',
      message: expect.stringMatching(/certificate/),
    });
  });
});
