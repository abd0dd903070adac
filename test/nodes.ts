// Child processes that run a fixture (fixtures/node.mjs by default), each with a bounded lifetime,
// their output read by line.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const NODE_SCRIPT = fileURLToPath(new URL('fixtures/node.mjs', import.meta.url));
const LIFETIME_MS = 60_000;

export class Node {
  readonly lines: string[] = [];
  readonly #child: ChildProcess;
  readonly #gone: Promise<void>;
  #watchers = new Set<() => void>();

  /** `prefix` runs the script under another command, e.g. `ip netns exec NS` (which execs it: same pid). */
  constructor(args: string[], prefix: string[] = [], script = NODE_SCRIPT) {
    const [command, ...rest] = [...prefix, process.execPath, script, ...args] as [string, ...string[]];
    this.#child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('.', import.meta.url)) });
    const lifetime = setTimeout(() => this.#child.kill('SIGKILL'), LIFETIME_MS);
    let pending = '';
    this.#child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      this.lines.push(...parts.filter((part) => part.length > 0));
      for (const watcher of this.#watchers) watcher();
    });
    let errors = '';
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    this.#gone = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    void this.#gone.then(() => {
      clearTimeout(lifetime);
      if (errors) this.lines.push(`stderr: ${errors.trim()}`);
      for (const watcher of this.#watchers) watcher();
    });
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** The first line `match` accepts; rejects once the process exits or after `ms`. */
  line(match: (line: string) => boolean, ms = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(match);
        if (found !== undefined) finish(found);
        else if (this.exited) finish(new Error(`exited; printed ${JSON.stringify(this.lines)}`));
      };
      const timer = setTimeout(() => finish(new Error(`no such line within ${ms} ms; printed ${JSON.stringify(this.lines)}`)), ms);
      const finish = (outcome: string | Error) => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        if (typeof outcome === 'string') resolve(outcome);
        else reject(outcome);
      };
      this.#watchers.add(check);
      check();
    });
  }

  /** Sends the process a signal, e.g. to tell it that something it waits for happened. */
  signal(name: NodeJS.Signals): void {
    if (!this.exited) this.#child.kill(name);
  }

  ready(): Promise<string> {
    return this.line((line) => line === 'ready');
  }

  async kill(): Promise<void> {
    if (!this.exited) this.#child.kill('SIGKILL');
    await this.#gone;
  }
}

/** Runs `attempt` until it returns something, at most `tries` times, `gapMs` apart. */
export async function eventually<T>(attempt: () => Promise<T | undefined> | T | undefined, tries: number, gapMs: number): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const result = await attempt();
    if (result !== undefined) return result;
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  throw new Error(`nothing after ${tries} attempts ${gapMs} ms apart`);
}
