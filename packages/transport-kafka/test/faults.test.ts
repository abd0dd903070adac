// The broker stops and starts again under load: every message whose publish resolved is consumed
// (at least once: duplicates are counted, none is lost), and a request made while the broker is
// away fails with a connection error instead of hanging until its timeout.

import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Message, isMsgError } from '@msg/core';
import { checkBroker } from '@msg/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaTransport } from '../src/index.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../scripts/kafka/kafka', import.meta.url));
const broker = (command: 'up' | 'down') => run(script, [command], { timeout: 180_000 });

const scriptMissing = await access(script, constants.X_OK).then(
  () => undefined,
  () => 'scripts/kafka/kafka is missing, so this test cannot stop and start the broker',
);
const skip = (await checkBroker('Kafka', '127.0.0.1', 9092)) ?? scriptMissing;

const MESSAGES = 3000;
/** Publishing goes on while the broker is away; this bounds it if the outage is long. */
const MAX_MESSAGES = 20_000;
const IN_FLIGHT = 50;
const LOAD_MS = 120_000;
const DRAIN_MS = 90_000;

describe.skipIf(skip)('kafka › the broker restarts under load', () => {
  afterAll(() => broker('up'), 180_000);

  it('every message whose publish resolved is consumed, and a request during the outage fails with CONNECTION', async () => {
    const publisher = await createKafkaTransport();
    const consumer = await createKafkaTransport();
    const topic = `faults.restart.${process.pid}.${Date.now()}`;
    const service = `faults.service.${process.pid}.${Date.now()}`;
    try {
      const stream = await consumer.subscribe(topic, { maxPending: MESSAGES });
      await consumer.reply(service, (request) => request.data);
      // The requester's reply topic is open before the outage, as in a running service.
      await publisher.request(service, new Uint8Array([1]), { timeout: 20_000 });

      const received = new Map<string, number>();
      let allReceived!: () => void;
      const sent = new Set<string>();
      let publishing = true;
      const reading = (async () => {
        for await (const message of stream as AsyncIterable<Message>) {
          const text = Buffer.from(message.data).toString();
          received.set(text, (received.get(text) ?? 0) + 1);
          if (!publishing && [...sent].every((id) => received.has(id))) allReceived();
        }
      })();
      const drained = new Promise<void>((resolve) => (allReceived = resolve));

      let failed = 0;
      let next = 0;
      const loadEnds = Date.now() + LOAD_MS;
      const publishSome = async () => {
        const batch = Array.from({ length: IN_FLIGHT }, () => `m${next++}`);
        await Promise.all(
          batch.map((id) =>
            publisher.publish(topic, Buffer.from(id)).then(
              () => void sent.add(id),
              (error: unknown) => {
                expect(isMsgError(error)).toBe(true);
                failed++;
              },
            ),
          ),
        );
      };

      // Some load before the outage, the outage under load, then load after it.
      while (next < MESSAGES / 3 && Date.now() < loadEnds) await publishSome();
      const outage = (async () => {
        await broker('down');
        // A request made while the broker is away fails with a connection error, not a hang.
        const during = await publisher.request(service, new Uint8Array([2]), { timeout: 120_000 }).catch((error: unknown) => error);
        expect(during).toMatchObject({ code: 'CONNECTION' });
        await broker('up');
      })();
      let outageOver = false;
      void outage.finally(() => (outageOver = true)).catch(() => undefined);
      while ((!outageOver || next < MESSAGES) && next < MAX_MESSAGES && Date.now() < loadEnds) await publishSome();
      await outage;
      publishing = false;

      const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), DRAIN_MS).unref());
      if ([...sent].every((id) => received.has(id))) allReceived();
      await Promise.race([drained, deadline]);

      const lost = [...sent].filter((id) => !received.has(id));
      const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
      console.info(`kafka restart: ${sent.size} publishes resolved, ${failed} rejected, ${received.size} distinct received, ${duplicates} duplicates, ${lost.length} lost`);
      expect(sent.size).toBeGreaterThan(0);
      expect(failed).toBeGreaterThan(0); // the outage really happened under load
      expect(lost).toEqual([]);

      await stream.unsubscribe();
      await reading;
    } finally {
      await Promise.all([publisher.close(), consumer.close()]);
    }
  }, 420_000);
});
