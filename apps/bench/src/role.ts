// What a role (publisher, subscriber, server, clients...) sees of the worker process it runs in.
import type { FromWorker, ToWorker } from './protocol.js';
import { type Driver, type Link, type LinkOptions, driverInfo } from './drivers/index.js';
import { withTimeout } from './drivers/timeout.js';

type Outgoing = FromWorker extends infer M ? (M extends FromWorker ? Omit<M, 'from'> : never) : never;

export class RoleContext {
  readonly id: string;
  readonly #send: (message: FromWorker) => void;
  readonly #queue: ToWorker[] = [];
  #waiter?: () => void;
  readonly #cleanups: (() => Promise<void>)[] = [];
  readonly #stop = new AbortController();
  #lastProgress = 0;

  constructor(id: string, send: (message: FromWorker) => void) {
    this.id = id;
    this.#send = send;
  }

  /** Aborted when the bench says stop (the end of the run, Ctrl-C, or a failure elsewhere). */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  post(message: Outgoing): void {
    this.#send({ ...message, from: this.id } as FromWorker);
  }

  /** Throttled to a few reports a second. */
  progress(count: number): void {
    const t = Date.now();
    if (t - this.#lastProgress < 200) return;
    this.#lastProgress = t;
    this.post({ type: 'progress', count });
  }

  deliver(message: ToWorker): void {
    if (message.type === 'stop') this.#stop.abort();
    this.#queue.push(message);
    this.#waiter?.();
  }

  /** The next message of `type` for this role; earlier messages of other types are dropped. */
  async next<T extends ToWorker['type']>(type: T, timeoutMs: number): Promise<Extract<ToWorker, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#queue.findIndex((m) => m.type === type);
      if (index >= 0) return this.#queue.splice(index, 1)[0] as Extract<ToWorker, { type: T }>;
      if (type !== 'stop' && this.#stop.signal.aborted) throw new Error('stopped');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${type}" from the bench within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Whether a message of `type` has arrived (without waiting). */
  has(type: ToWorker['type']): boolean {
    return this.#queue.some((m) => m.type === type);
  }

  /** Runs when the role ends, last registered first. */
  defer(cleanup: () => Promise<void>): void {
    this.#cleanups.unshift(cleanup);
  }

  async cleanup(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0)) {
      // Tidying up after the run is best effort, and bounded: it must not hold the results back.
      await Promise.race([cleanup().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    }
  }

  /** Opens a link that is closed when the role ends. */
  async open(driverName: string, mode: 'bind' | 'connect', address: string | undefined, options: LinkOptions): Promise<Link> {
    const driver = await loadDriver(driverName);
    const link = await withTimeout(driver.open(mode, address, options), 15_000, `${driverName}: connecting`);
    this.defer(() => link.close());
    return link;
  }
}

const drivers = new Map<string, Promise<Driver>>();
function loadDriver(name: string): Promise<Driver> {
  let driver = drivers.get(name);
  if (!driver) {
    const info = driverInfo(name);
    if (!info) throw new Error(`unknown transport ${name}`);
    driver = info.load();
    drivers.set(name, driver);
  }
  return driver;
}

