// Runs the native peers in test/peers with Debian's python3, which has pyzmq (python3-zmq).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';

/** Why the Python peers cannot run here, or undefined when they can. */
export function pythonMissing(): string | undefined {
  const check = spawnSync(PYTHON, ['-c', 'import zmq'], { stdio: 'ignore' });
  if (check.status === 0) return undefined;
  const reason = `${PYTHON} with pyzmq is not available (Debian: apt-get install python3-zmq)`;
  if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(reason);
  return reason;
}

export interface Peer {
  readonly child: ChildProcess;
  /** The next line the peer prints, or an error when it exits or stays silent for `ms`. */
  line(ms?: number): Promise<string>;
  /** Kills the peer (SIGKILL: no goodbye on the wire) and waits for it to be gone. */
  kill(): Promise<void>;
}

export function startPeer(script: string, args: string[]): Peer {
  const child = spawn(PYTHON, [fileURLToPath(new URL(`peers/${script}`, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let waiting: (() => void) | undefined;
  let exited = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    waiting?.();
  });
  const gone = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      waiting?.();
      resolve();
    }),
  );
  return {
    child,
    async line(ms = 10_000) {
      const deadline = Date.now() + ms;
      while (lines.length === 0) {
        if (exited) throw new Error(`${script} exited before printing a line`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${script} printed nothing within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiting = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        waiting = undefined;
      }
      return lines.shift() as string;
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await gone;
    },
  };
}

/** Frames printed by a peer as space-separated hex. */
export function framesOf(line: string): Buffer[] {
  return line.length === 0 ? [] : line.split(' ').map((hex) => Buffer.from(hex, 'hex'));
}
