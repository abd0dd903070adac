// A native nanomsg program (nanocat or nngcat) as the other end of a test: started as a child process
// with a bounded lifetime, its quoted output read line by line.

import { type ChildProcess, spawn } from 'node:child_process';

const LIFETIME_MS = 30_000;

export class NativePeer {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #watchers = new Set<() => void>();

  /** `args` include `--quoted` when the peer receives: `lines` holds what it printed. */
  constructor(tool: 'nanocat' | 'nngcat', args: string[]) {
    this.#child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lifetime = setTimeout(() => this.#child.kill('SIGKILL'), LIFETIME_MS);
    lifetime.unref();
    let rest = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) if (part.length > 0) this.lines.push(unquote(part));
      for (const watcher of this.#watchers) watcher();
    });
    this.#child.stderr?.resume();
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    void this.#exited.then(() => clearTimeout(lifetime));
  }

  /** Resolves with the first line for which `match` holds, or rejects after `ms`. */
  waitForLine(match: (line: string) => boolean, ms: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.lines.find(match);
        if (line === undefined) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching line within ${ms} ms; got ${JSON.stringify(this.lines)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.#watchers.delete(check);
      };
      this.#watchers.add(check);
      check();
    });
  }

  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#exited;
  }
}

/** Undoes the C-style quoting of `--quoted` output ("a\\x01b" and the like), byte for byte as latin1. */
function unquote(line: string): string {
  return line
    .replace(/^"|"$/g, '')
    .replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, escape: string) => {
      if (escape.startsWith('x')) return String.fromCharCode(Number.parseInt(escape.slice(1), 16));
      return ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[escape] ?? escape;
    });
}

/** Runs `attempt` until it returns something, at most `tries` times, `gapMs` apart. */
export async function eventually<T>(attempt: () => Promise<T | undefined>, tries: number, gapMs: number): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const result = await attempt();
    if (result !== undefined) return result;
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  throw new Error(`nothing after ${tries} attempts`);
}
