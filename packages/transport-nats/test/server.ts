// A nats-server of a test's own, on a free loopback port, for the cases that must stop, restart or
// configure a server: the shared one is never touched.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, reachable } from '@msg/conformance';

const HOST = '127.0.0.1';

export interface ServerOptions {
  /** Enable JetStream, stored in a temporary directory that outlives restarts. */
  jetstream?: boolean;
  /** More command-line arguments, e.g. `['--auth', token]`. */
  args?: string[];
}

export class TestServer {
  readonly port: number;
  readonly url: string;
  readonly #args: string[];
  readonly #storeDir: string | undefined;
  #process: ChildProcess | undefined;

  private constructor(port: number, options: ServerOptions) {
    this.port = port;
    this.url = `nats://${HOST}:${port}`;
    this.#storeDir = options.jetstream ? mkdtempSync(join(tmpdir(), 'msg-nats-test-')) : undefined;
    this.#args = ['-a', HOST, '-p', String(port), ...(this.#storeDir ? ['-js', '-sd', this.#storeDir] : []), ...(options.args ?? [])];
  }

  static async start(options: ServerOptions = {}): Promise<TestServer> {
    const server = new TestServer(await freePort(), options);
    await server.restart();
    return server;
  }

  /** Starts the server (again, on the same port and store) and waits until it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn('nats-server', this.#args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    this.#process = child;
    // Should the test process end without stopping it (a crash, a timeout), the server goes too.
    const orphaned = () => child.kill('SIGKILL');
    process.once('exit', orphaned);
    child.once('exit', () => process.off('exit', orphaned));
    for (let attempt = 0; attempt < 100; attempt++) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}: ${log}`);
      if (await reachable(HOST, this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`nats-server did not start on port ${this.port}: ${log}`);
  }

  /** Kills the server at once, as a crash would: no goodbye to clients. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    if (this.#storeDir) rmSync(this.#storeDir, { recursive: true, force: true });
  }
}
