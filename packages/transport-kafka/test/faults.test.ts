// The shared fault cases on a Kafka broker of this test's own, stopped and started again under load:
// requests in flight fail with CONNECTION, subscriptions resume, and nothing whose publish resolved
// is lost. The broker runs on free ports with its state in a temporary folder, so that the broker
// others use on 9092 is never stopped, and stopping ours really stops the broker the transports use.

import { execFile } from 'node:child_process';
import { access, constants, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeFaults, freePort } from '@msg/conformance';
import { afterAll, beforeAll } from 'vitest';
import { createKafkaTransport, kafkaCapabilities } from '../src/index.js';

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

let broker: OwnBroker | undefined;
beforeAll(async () => {
  if (skip) return;
  broker = await OwnBroker.create();
  await broker.command('up');
}, 180_000);
afterAll(() => broker?.remove(), 60_000);

describeFaults({
  name: 'kafka',
  capabilities: kafkaCapabilities,
  skip,
  hooks: {
    fault: 'the broker is stopped and started again',
    connect: () => createKafkaTransport({ brokers: [`127.0.0.1:${broker!.port}`] }),
    down: () => broker!.command('down'),
    up: () => broker!.command('up'),
  },
});
