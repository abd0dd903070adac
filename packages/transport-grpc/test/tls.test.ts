import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcTransport, createGrpcTransport } from '../src/index.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe('tls', () => {
  let dir: string;
  let cert: string;
  let host: GrpcTransport;

  beforeAll(async () => {
    // A self-signed certificate for the loopback address, made for this run only.
    dir = mkdtempSync(join(tmpdir(), 'msg-grpc-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    host = await createGrpcTransport({ listen: '127.0.0.1:0', tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') } });
    await host.reply('tls.echo', (request) => request.data);
  });

  afterAll(async () => {
    await host?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a client that trusts the certificate talks to the host', async () => {
    const client = await createGrpcTransport({ connect: host.address, tls: { ca: cert, serverName: 'localhost' } });
    try {
      const reply = await client.request('tls.echo', Buffer.from('sealed'));
      expect(text(reply.data)).toBe('sealed');
    } finally {
      await client.close();
    }
  });

  it('a plaintext client fails to connect with CONNECTION', async () => {
    await expect(createGrpcTransport({ connect: host.address, connectTimeout: 3000 })).rejects.toMatchObject({ code: 'CONNECTION' });
  });

  it('a client that does not trust the certificate fails to connect with CONNECTION', async () => {
    await expect(createGrpcTransport({ connect: host.address, tls: { serverName: 'localhost' }, connectTimeout: 3000 })).rejects.toMatchObject({ code: 'CONNECTION' });
  });
});
