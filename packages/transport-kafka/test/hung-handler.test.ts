// A handler that is slow or never returns must not hold back the requests behind it: records are
// served side by side (up to a bound), and one whose requester's deadline has passed gives its place back.

import { text } from '@msg/core';
import { checkBroker, uniqueName } from '@msg/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { type KafkaOptions, createKafkaTransport } from '../src/index.js';
import { CONCURRENT_REQUESTS } from '../src/reqrep.js';

const skip = await checkBroker('Kafka', '127.0.0.1', 9092);
const options: KafkaOptions = { brokers: ['127.0.0.1:9092'] };
const open: Array<{ close(): Promise<void> }> = [];
afterAll(() => Promise.all(open.map((t) => t.close())), 60_000);
const transport = () => createKafkaTransport(options);

describe.skipIf(skip !== undefined)('kafka › a slow handler', () => {
  it('does not hold back the requests behind it, and its own reply still arrives', async () => {
    const [replier, a, b] = await Promise.all([transport(), transport(), transport()]);
    open.push(replier, a, b);
    const service = uniqueName('slow');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const slowStarted = new Promise<void>((resolve) => (started = resolve));
    await replier.reply(service, async (request) => {
      if (text.decode(request.data) === 'slow') {
        started();
        await released;
      }
      return text.encode(`re:${text.decode(request.data)}`);
    });
    try {
      const slow = a.request(service, text.encode('slow'), { timeout: 30_000 });
      await slowStarted;
      // Well within the slow request's deadline: these are served while it still runs.
      const behind = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).request(service, text.encode(`behind${i}`), { timeout: 10_000 })),
      );
      expect(behind.map((reply) => text.decode(reply.data))).toEqual(Array.from({ length: 10 }, (_, i) => `re:behind${i}`));
      release();
      expect(text.decode((await slow).data)).toBe('re:slow');
    } finally {
      release();
    }
  }, 60_000);

  it('that never returns gives its place back at its deadline, even when as many hang as are served at once', async () => {
    const [replier, a] = await Promise.all([transport(), transport()]);
    open.push(replier, a);
    const service = uniqueName('hung');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await replier.reply(service, async (request) => {
      if (text.decode(request.data) === 'hang') await released;
      return text.encode(`re:${text.decode(request.data)}`);
    });
    try {
      const hung = await Promise.all(
        Array.from({ length: CONCURRENT_REQUESTS }, () => a.request(service, text.encode('hang'), { timeout: 2000 }).catch((error: unknown) => error)),
      );
      expect(hung.every((error) => (error as { code?: string }).code === 'TIMEOUT')).toBe(true);
      const next = await a.request(service, text.encode('next'), { timeout: 10_000 });
      expect(text.decode(next.data)).toBe('re:next');
    } finally {
      release();
    }
  }, 60_000);
});
