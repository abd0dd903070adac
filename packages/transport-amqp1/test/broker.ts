// An ActiveMQ of a test's own, for the cases that must configure, stop or restart a broker: the
// shared one on 5673 is never touched. It is scripts/activemq/activemq with a free port and a state
// folder of its own (configuration, data, pid and log), which outlives restarts.

import { execFile } from 'node:child_process';
import { access, constants, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, reachable } from '@msg/conformance';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../scripts/activemq/activemq', import.meta.url));

/** Why a broker of the test's own cannot run here, or undefined; in CI that is a failure. */
export async function ownBrokerMissing(): Promise<string | undefined> {
  const reason =
    (await access(script, constants.X_OK).then(
      () => undefined,
      () => 'scripts/activemq/activemq is missing',
    )) ??
    (await access('/usr/share/activemq/bin/activemq.jar', constants.R_OK).then(
      () => undefined,
      () => "Debian's activemq package is not installed",
    ));
  if (!reason) return undefined;
  const why = `${reason}, so this test cannot run a broker of its own; install it and run \`pnpm brokers up\` once`;
  if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${why} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
  console.warn(`\n*** SKIPPING: ${why} ***\n`);
  return why;
}

export interface BrokerOptions {
  /** user:password pairs the broker accepts; with any, it accepts no one else. */
  users?: Array<[string, string]>;
  /** The connector's transport.maxFrameSize. */
  maxFrameSize?: number;
}

export class TestBroker {
  readonly port: number;
  readonly url: string;
  readonly state: string;
  readonly #env: NodeJS.ProcessEnv;

  private constructor(port: number, state: string, options: BrokerOptions) {
    this.port = port;
    this.url = `amqp1://127.0.0.1:${port}`;
    this.state = state;
    this.#env = { ...process.env, ACTIVEMQ_PORT: String(port), ACTIVEMQ_STATE_DIR: state };
    if (options.users) this.#env.ACTIVEMQ_USERS = options.users.map(([user, password]) => `${user}:${password}`).join(' ');
    if (options.maxFrameSize) this.#env.ACTIVEMQ_MAX_FRAME = String(options.maxFrameSize);
  }

  static async start(options: BrokerOptions = {}): Promise<TestBroker> {
    const broker = new TestBroker(await freePort(), await mkdtemp(join(tmpdir(), 'msg-activemq-test-')), options);
    await broker.restart();
    return broker;
  }

  /** Starts the broker (again, same port and folder) and waits until it accepts connections. */
  async restart(): Promise<void> {
    await run(script, ['up'], { env: this.#env, timeout: 120_000 });
  }

  /** The broker's pid while it is still ours (its command line names our folder). */
  async #pid(): Promise<number | undefined> {
    const pid = Number(await readFile(join(this.state, 'activemq.pid'), 'utf8').catch(() => ''));
    const cmdline = pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
    return cmdline.includes(this.state) ? pid : undefined;
  }

  /** SIGTERM is the script's orderly stop; SIGKILL is a crash, by the pid. */
  async kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (signal === 'SIGTERM') {
      await run(script, ['down'], { env: this.#env, timeout: 60_000 });
      return;
    }
    const pid = await this.#pid();
    if (pid === undefined) return;
    process.kill(pid, 'SIGKILL');
    // Gone from /proc's command line is not gone: a dying process loses its memory before its files,
    // so its listening socket (and the store's lock) outlive its command line for a moment, and a
    // start then would find the port taken and leave it alone. Wait for the port to close too.
    for (let i = 0; i < 400 && ((await this.#pid()) !== undefined || (await reachable('127.0.0.1', this.port, 200))); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Stops it whatever state the test left it in, and removes its folder. */
  async stop(): Promise<void> {
    await this.kill('SIGTERM').catch(() => undefined); // it may be down already
    await this.kill('SIGKILL').catch(() => undefined); // the backstop: it may be gone by now
    await rm(this.state, { recursive: true, force: true });
  }
}
