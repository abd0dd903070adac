// Bytes that other Redis clients put on our keys and channels: a plain payload is delivered as it is,
// a malformed envelope is dropped (reported to status()) and never stops a subscriber or a replier.

import { Reader, StatusLog, checkBroker } from '@msg/conformance';
import type { Transport } from '@msg/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisTransport } from '../src/index.js';
import { HOST, PORT, deleteKeys, openAdmin, unique } from './admin.js';

const skip = await checkBroker('Redis', HOST, PORT);
const prefix = unique('frames');
/** Magic and version of the core envelope, then an unknown kind: starts like ours, cannot decode. */
const malformed = Buffer.from([0xa7, 0x01, 0x63, 0x00]);
const text = (data: Uint8Array) => Buffer.from(data).toString();

describe.skipIf(skip)('redis frames', () => {
  let admin: Redis;
  let t: Transport;

  beforeAll(async () => {
    admin = openAdmin();
    t = await createRedisTransport({ host: HOST, port: PORT, prefix });
  });

  afterAll(async () => {
    await t.close();
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  it('a plain payload published by another Redis client arrives as it is, on its topic', async () => {
    const reader = new Reader(await t.subscribe('frames.*'));
    await admin.publish(`${prefix}:ps:frames.native`, 'plain bytes');
    const [message] = await reader.take(1, 2000);
    expect(text(message!.data)).toBe('plain bytes');
    expect(message!.subject).toBe('frames.native');
    expect(message!.headers).toEqual({});
  });

  it('a malformed envelope is dropped and reported to status() as BAD_FRAME; the subscription and the replier go on', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const watched = new StatusLog(t);
    try {
      const reader = new Reader(await t.subscribe('frames.bad'));
      await t.reply('frames.echo', (request) => request.data);
      await admin.publish(`${prefix}:ps:frames.bad`, malformed);
      await admin.lpush(`${prefix}:rq:frames.echo`, malformed);
      await t.publish('frames.bad', new TextEncoder().encode('valid'));
      expect((await reader.take(1, 2000)).map((m) => text(m.data))).toEqual(['valid']);
      expect(text((await t.request('frames.echo', new TextEncoder().encode('still serving'))).data)).toBe('still serving');
      const errors = watched.events.filter((event) => event.type === 'error');
      // One per subscription that got the bad publish (the earlier case's `frames.*` is still open), one from the replier.
      expect(new Set(errors.map((event) => event.type === 'error' && event.error.code))).toEqual(new Set(['BAD_FRAME']));
      expect(new Set(errors.map((event) => event.connection))).toEqual(new Set(['subscriber', 'replier']));
      expect(errors[0]).toMatchObject({ error: { message: expect.stringMatching(/not a valid msg frame/) } });
      // Watched, so not printed.
      expect(warn).not.toHaveBeenCalled();
    } finally {
      watched.stop();
      warn.mockRestore();
    }
  });
});
