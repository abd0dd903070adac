// The bench's side of its worker processes: forks them, routes control messages to and from each
// role, and turns every wait into a bounded one, so a dead broker or a dead worker is reported.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, Job, ToWorker } from './protocol.js';
import type { ProcessStats } from './machine.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

type Distributive<T> = T extends unknown ? Omit<T, 'to'> : never;

export class Role {
  readonly id: string;
  readonly #child: Worker;
  readonly #inbox: FromWorker[] = [];
  #waiter?: () => void;
  /** The latest count the role reported. */
  count = 0;
  process?: ProcessStats;

  constructor(id: string, child: Worker) {
    this.id = id;
    this.#child = child;
  }

  post(message: Distributive<ToWorker>): void {
    this.#child.post({ ...message, to: this.id } as ToWorker);
  }

  deliver(message: FromWorker): void {
    if (message.type === 'progress') {
      this.count = message.count;
      return;
    }
    if (message.type === 'result') this.process = message.process;
    this.#inbox.push(message);
    this.#waiter?.();
  }

  /** The next message of `type`; an error from the role, its process's death or the timeout rejects. */
  async next<T extends FromWorker['type']>(type: T, timeoutMs: number, what = type as string): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#inbox.findIndex((m) => m.type === type || m.type === 'error');
      if (index >= 0) {
        const message = this.#inbox.splice(index, 1)[0]!;
        if (message.type === 'error' && type !== 'error') throw new Error(`${this.id}: ${message.message}`);
        return message as Extract<FromWorker, { type: T }>;
      }
      if (this.#child.exited) throw new Error(`${this.id}: its process exited (${this.#child.exited})${this.#child.stderrTail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.id}: ${what} did not come within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

export class Worker {
  readonly #child: ChildProcess;
  readonly #roles = new Map<string, Role>();
  exited: string | undefined;
  #stderr = '';

  constructor(name: string) {
    this.#child = fork(WORKER, [name], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
    const keep = (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-2000));
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.#child.on('message', (message: FromWorker) => this.#roles.get(message.from)?.deliver(message));
    this.#child.on('exit', (code, signal) => {
      this.exited = signal ?? `code ${code}`;
      for (const role of this.#roles.values()) role.deliver({ from: role.id, type: 'stopped' });
    });
    this.#child.on('error', () => undefined);
  }

  stderrTail(): string {
    const tail = this.#stderr.trim().split('\n').slice(-3).join(' | ');
    return tail ? `: ${tail}` : '';
  }

  post(message: ToWorker): void {
    if (this.#child.connected) this.#child.send(message);
  }

  start(id: string, job: Job): Role {
    const role = new Role(id, this);
    this.#roles.set(id, role);
    this.post({ to: id, type: 'start', job });
    return role;
  }

  /** Stops every role, waits a little for them to clean up, then kills what is left. */
  async stop(): Promise<void> {
    for (const role of this.#roles.values()) role.post({ type: 'stop' });
    const deadline = Date.now() + 5_000;
    while (!this.exited && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (!this.exited) this.#child.kill('SIGKILL');
  }
}

/** Every worker started, so that Ctrl-C and failures stop them all. */
export class Workers {
  readonly #all = new Set<Worker>();

  spawn(name: string): Worker {
    const worker = new Worker(name);
    this.#all.add(worker);
    return worker;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#all].map((w) => w.stop()));
    this.#all.clear();
  }
}
