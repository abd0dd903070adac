// A redis-server of a test's own, on a free loopback port, with or without persistence, for the cases
// that kill or restart the server: the shared one is never touched.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@msg/conformance';

const HOST = '127.0.0.1';

export class TestServer {
  readonly host = HOST;
  readonly port: number;
  #process: ChildProcess | undefined;
  /** With persistence: the folder of its append-only file, fsynced at every write. */
  readonly #dir: string | undefined;

  private constructor(port: number, dir: string | undefined) {
    this.port = port;
    this.#dir = dir;
  }

  /** `persistence`: every write is in the append-only file before it is acknowledged, so a kill keeps it. */
  static async start(options: { persistence?: boolean } = {}): Promise<TestServer> {
    const server = new TestServer(await freePort(), options.persistence ? mkdtempSync(join(tmpdir(), 'msg-redis-')) : undefined);
    await server.restart();
    return server;
  }

  /** (Re)starts the server on the same port (empty, unless with persistence) and resolves once it accepts connections. */
  async restart(): Promise<void> {
    await this.kill();
    const keep = this.#dir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.#dir] : ['--appendonly', 'no'];
    const args = ['--port', String(this.port), '--bind', HOST, '--save', '', ...keep];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#process = child;
    // Should the test process end without stopping it (a crash, a timeout), the server goes too.
    const orphaned = () => child.kill('SIGKILL');
    process.once('exit', orphaned);
    child.once('exit', () => process.off('exit', orphaned));
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-4000);
        if (!log.includes('Ready to accept connections')) return;
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
      child.once('exit', (code) => reject(new Error(`redis-server on port ${this.port} exited with ${code}: ${log}`)));
    });
  }

  /** Stops it and removes its files. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Kills the server at once, as a crash would: no goodbye to clients, and only what it wrote kept. */
  async kill(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}
