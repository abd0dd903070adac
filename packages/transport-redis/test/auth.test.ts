// Credentials, for real: an ACL user created for this test (and deleted after it) is accepted with
// its password and refused with a wrong one, with an error that never shows either secret.

import { inspect } from 'node:util';
import { checkBroker } from '@msg/conformance';
import { connect, isMsgError } from '@msg/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisTransport } from '../src/index.js';
import { HOST, PORT, deleteKeys, openAdmin, unique } from './admin.js';

const skip = await checkBroker('Redis', HOST, PORT);
const prefix = unique('auth');
const user = unique('user');
const password = `pw-${Math.random().toString(36).slice(2)}-right`;
const wrong = `pw-${Math.random().toString(36).slice(2)}-wrong`;

/** Everything an error would show when logged: message, stack, cause and properties. */
const shown = (error: unknown) => `${String(error)}\n${inspect(error, { depth: 10 })}`;

describe.skipIf(skip)('redis auth', () => {
  let admin: Redis;

  beforeAll(async () => {
    admin = openAdmin();
    // Only this test's keys and channels, no dangerous commands; INFO for the client's ready check.
    await admin.acl('SETUSER', user, 'reset', 'on', `>${password}`, `~${prefix}:*`, `&${prefix}:*`, '+@all', '-@dangerous', '+info');
  });

  afterAll(async () => {
    await admin.acl('DELUSER', user);
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  it('a wrong password is a ConnectionError that does not contain the secret', async () => {
    const error = await createRedisTransport({ host: HOST, port: PORT, prefix, username: user, password: wrong }).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect((error as Error).message).toMatch(/WRONGPASS/);
    expect(shown(error)).not.toContain(wrong);
    expect(shown(error)).not.toContain(password);
  });

  it('a wrong password in the URL is refused the same way, without the secret', async () => {
    const url = `redis://${user}:${wrong}@${HOST}:${PORT}`;
    const error = await connect(url, { prefix }).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect(shown(error)).not.toContain(wrong);
  });

  it('the right password works for request/reply and publish/subscribe', async () => {
    const a = await createRedisTransport({ host: HOST, port: PORT, prefix, username: user, password });
    const b = await connect(`redis+streams://${user}:${password}@${HOST}:${PORT}/0`, { prefix });
    try {
      await a.reply('auth.echo', (request) => request.data);
      expect(Buffer.from((await b.request('auth.echo', new Uint8Array([1, 2, 3]))).data)).toEqual(Buffer.from([1, 2, 3]));
      const stream = await b.subscribe('auth.topic');
      await b.publish('auth.topic', new Uint8Array([9]));
      const first = await stream[Symbol.asyncIterator]().next();
      expect(first.done).toBe(false);
      expect(Buffer.from(first.value.data)).toEqual(Buffer.from([9]));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('TLS options reach the client: rediss:// against a plain server fails as a ConnectionError', async () => {
    const error = await connect(`rediss://${HOST}:${PORT}`, { prefix, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
  });
});
