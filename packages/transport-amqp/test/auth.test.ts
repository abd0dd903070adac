// Credentials for real: a user of our own on a vhost of our own. A wrong password is a clear
// CONNECTION error that never shows the secret; the right one connects.

import { checkBroker, everythingShown, freePort, str, utf8 } from '@msg/conformance';
import { connect, isMsgError } from '@msg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../src/index.js';
import { HOST, PORT, type TestVhost, createVhost } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);

describe.skipIf(skip)('amqp authentication', () => {
  let place: TestVhost;
  beforeAll(async () => {
    place = await createVhost('auth');
  });
  afterAll(() => place?.remove());

  it('a wrong password is a CONNECTION error that says the login was refused and never shows the secret', async () => {
    const wrong = `wrong-${place.password.slice(3)}`;
    const error = await createAmqpTransport({ url: place.url, password: wrong }).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect((error as Error).message).toMatch(/refused the login/);
    const shown = everythingShown(error);
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(place.password);
  });

  it('a wrong password in the URL, through connect(), fails the same way without showing it', async () => {
    const url = `amqp://${place.username}:sup3r-s3cret@${HOST}:${PORT}/${encodeURIComponent(place.vhost)}`;
    const error = await connect(url).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect(everythingShown(error)).not.toContain('sup3r-s3cret');
  });

  it('the right password connects, and the transport works in both profiles', async () => {
    for (const scheme of ['amqp', 'amqp+confirm']) {
      const t = await connect(place.url.replace(/^amqp:/, `${scheme}:`));
      try {
        expect(t.capabilities.delivery).toBe(scheme === 'amqp' ? 'at-most-once' : 'at-least-once');
        await t.reply('auth.echo', (request) => request.data);
        expect(str((await t.request('auth.echo', utf8('hi'))).data)).toBe('hi');
      } finally {
        await t.close();
      }
    }
  });

  it('a user without access to the vhost is refused with CONNECTION', async () => {
    const error = await createAmqpTransport({ url: `amqp://${place.username}:${place.password}@${HOST}:${PORT}/no-such-vhost-${process.pid}` }).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect(everythingShown(error)).not.toContain(place.password);
  });

  it('nobody listening is a CONNECTION error at once, not a hang', async () => {
    const port = await freePort();
    const error = await createAmqpTransport({ url: `amqp://${place.username}:${place.password}@${HOST}:${port}` }).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(everythingShown(error)).not.toContain(place.password);
  });
});
