// Fresh endpoints for the sockets a transport binds, from its `listen` option.

import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@msg/core';

const unique = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
let counter = 0;

/** A free TCP port on `host`, found by asking the OS; nanomsg cannot report a port it picked. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * `listen` is `ipc` (socket files in the OS temp dir), `ipc:///some/dir`, `inproc`, or
 * `tcp://HOST` (a free port on HOST each time; write IPv6 hosts in brackets: `tcp://[::1]`).
 */
export async function newEndpoint(listen: string): Promise<string> {
  const name = `msg-nn-${unique}-${++counter}`;
  if (listen === 'inproc') return `inproc://${name}`;
  if (listen === 'ipc') return `ipc://${join(tmpdir(), `${name}.ipc`)}`;
  if (listen.startsWith('ipc://')) return `ipc://${join(listen.slice('ipc://'.length), `${name}.ipc`)}`;
  if (listen.startsWith('tcp://')) {
    const host = listen.slice('tcp://'.length).replace(/\/$/, '');
    const port = await freePort(host.replace(/^\[(.*)\]$/, '$1'));
    return `tcp://${host}:${port}`;
  }
  throw new InvalidArgumentError(`listen must be ipc, ipc://DIR, inproc or tcp://HOST, got ${JSON.stringify(listen)}`);
}
