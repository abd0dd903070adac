// A mosquitto of a test's own, on a free loopback port, for the cases that must configure, stop or
// restart a broker: the shared one is never touched. Its configuration and persistence live in a
// temporary directory that outlives restarts.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, reachable } from '@msg/conformance';

const HOST = '127.0.0.1';

export interface BrokerOptions {
  /** More lines of mosquitto.conf, e.g. `max_packet_size 65536`. */
  config?: string[];
  /** Accept clients without credentials. Default true. */
  anonymous?: boolean;
  /** Keep sessions and queued messages in the directory across restarts (written on a clean shutdown). */
  persistence?: boolean;
}

export class TestBroker {
  readonly port: number;
  readonly url: string;
  /** The broker's own directory: its configuration, persistence, and whatever a test puts there. */
  readonly dir: string;
  readonly #conf: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string, options: BrokerOptions) {
    this.port = port;
    this.url = `mqtt://${HOST}:${port}`;
    this.dir = dir;
    this.#conf = join(dir, 'mosquitto.conf');
    // Run as this process's user (mosquitto started as root would switch to its own user, which cannot read the temporary directory).
    const lines = [`listener ${port} ${HOST}`, `allow_anonymous ${options.anonymous ?? true}`, `user ${userInfo().username}`, ...(options.config ?? [])];
    if (options.persistence) lines.push('persistence true', `persistence_location ${dir}/`);
    writeFileSync(this.#conf, `${lines.join('\n')}\n`);
  }

  /** `options` may be made from the broker's directory, to name files kept there (a password file). */
  static async start(options: BrokerOptions | ((dir: string) => BrokerOptions) = {}): Promise<TestBroker> {
    const dir = mkdtempSync(join(tmpdir(), 'msg-mqtt-test-'));
    const broker = new TestBroker(await freePort(), dir, typeof options === 'function' ? options(dir) : options);
    await broker.restart();
    return broker;
  }

  /** Starts mosquitto (again, same port and directory) and waits until it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn('mosquitto', ['-c', this.#conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    this.#process = child;
    // Should the test process end without stopping it (a crash, a timeout), the broker goes too.
    const orphaned = () => child.kill('SIGKILL');
    process.once('exit', orphaned);
    child.once('exit', () => process.off('exit', orphaned));
    for (let attempt = 0; attempt < 100; attempt++) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${log}`);
      if (await reachable(HOST, this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`mosquitto did not start on port ${this.port}: ${log}`);
  }

  /** Stops the broker by its pid. SIGTERM lets mosquitto write its persistence; SIGKILL is a crash. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
