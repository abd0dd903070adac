// The broker stops and starts again under load: every message whose publish resolved is consumed
// (at least once: duplicates are counted, none is lost), and a request made while the broker is
// away fails with a connection error instead of hanging until its timeout. The broker is one of
// this test's own, on free ports with its state in a temporary folder, so that the broker others
// use on 9092 is never stopped, and stopping ours really stops the broker the transports talk to.

import { execFile } from 'node:child_process';
import { access, constants, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Message, isMsgError } from '@msg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaOptions, createKafkaTransport } from '../src/index.js';
import { StatusLog, freePort } from '@msg/conformance';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../scripts/kafka/kafka', import.meta.url));

const scriptMissing = await access(script, constants.X_OK).then(
  () => undefined,
  () => 'scripts/kafka/kafka is missing, so this test cannot run a broker of its own',
);
const javaMissing = await run('java', ['-version']).then(
  () => undefined,
  () => 'java is not installed, so this test cannot run a broker of its own',
);
const skip = scriptMissing ?? javaMissing;
if (skip) {
  if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${skip} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
  console.warn(`\n*** SKIPPING: ${skip} ***\n`);
}

/** This test's own broker, driven by the script with a port and state folder of its own. */
class OwnBroker {
  private constructor(
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
    readonly state: string,
  ) {}

  static async create(): Promise<OwnBroker> {
    const [port, controllerPort] = [await freePort(), await freePort()];
    const state = await mkdtemp(join(tmpdir(), 'msg-kafka-faults-'));
    const env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_STATE_DIR: state,
      KAFKA_HEAP: '512m',
    };
    return new OwnBroker(port, env, state);
  }

  async command(command: 'up' | 'down'): Promise<void> {
    await run(script, [command], { env: this.env, timeout: 180_000 });
  }

  /** Stops it by its pid whatever state the test left it in, and removes its folder. */
  async remove(): Promise<void> {
    await this.command('down').catch(() => undefined); // it may be down already; the pid below is the backstop
    const pid = Number(await readFile(join(this.state, 'kafka.pid'), 'utf8').catch(() => ''));
    // Only while that pid is still our broker (its command line names our folder), never a reused one.
    const cmdline = pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
    if (cmdline.includes(this.state)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await rm(this.state, { recursive: true, force: true });
  }
}

const MESSAGES = 3000;
/** Publishing goes on while the broker is away; this bounds it if the outage is long. */
const MAX_MESSAGES = 20_000;
const IN_FLIGHT = 50;
const LOAD_MS = 120_000;
const DRAIN_MS = 90_000;

describe.skipIf(skip)('kafka › the broker restarts under load', () => {
  let broker: OwnBroker;
  let options: KafkaOptions;
  beforeAll(async () => {
    broker = await OwnBroker.create();
    await broker.command('up');
    options = { brokers: [`127.0.0.1:${broker.port}`] };
  }, 180_000);
  afterAll(() => broker?.remove(), 60_000);

  it('every message whose publish resolved is consumed, and a request during the outage fails with CONNECTION', async () => {
    const publisher = await createKafkaTransport(options);
    const consumer = await createKafkaTransport(options);
    const watched = new StatusLog(consumer);
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
        await broker.command('down');
        // A request made while the broker is away fails with a connection error, not a hang.
        const during = await publisher.request(service, new Uint8Array([2]), { timeout: 120_000 }).catch((error: unknown) => error);
        expect(during).toMatchObject({ code: 'CONNECTION' });
        await broker.command('up');
      })();
      let outageOver = false;
      void outage.finally(() => (outageOver = true)).catch(() => undefined); // awaited below, where it fails the case
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
      // A user watching status() saw the subscription's consumer lose the broker and come back.
      console.info(`kafka restart: status events ${watched.types().join(' → ')}`);
      expect(watched.recovered()).toBe(true);

      await stream.unsubscribe();
      await reading;
    } finally {
      await Promise.all([publisher.close(), consumer.close()]);
    }
  }, 420_000);
});
