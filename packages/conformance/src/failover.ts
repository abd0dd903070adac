// The load that the cluster tests run while they kill a node: numbered publishes, a bounded number
// in flight, each one counted as resolved or refused (by code), and what a subscriber received,
// so that each test says in one line what was published, resolved, refused, received and lost.
// It needs no test runner (its own export, `@msg/conformance/failover`): a client process on a test
// host of its own runs it too.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '@msg/core';

const decoder = new TextDecoder();

/** Waits for `condition`, checking every 20 ms, for at most `ms`; says whether it came true. */
export async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await sleep(20);
  return condition();
}

export interface PublishLoadOptions {
  /** Publishes the message `key` (the run's sequence number as text). */
  publish: (key: string) => Promise<unknown>;
  /** At most this many publishes. */
  total: number;
  /** Publishes in flight at a time. Default 20. */
  inFlight?: number;
  /** The load stops by itself after this long. Default two minutes. */
  maxMs?: number;
  /** How long to wait before the next publish, as a caller backing off would: 0 for not at all. */
  pause?: (load: PublishLoad) => number;
}

/** Publishes until `total`, its deadline or `stop()`, counting every outcome. */
export class PublishLoad {
  readonly resolved = new Set<string>();
  readonly rejected = new Map<string, number>();
  published = 0;
  /** The message of the last refusal, to say why when publishing does not resume. */
  lastRejection: string | undefined;
  /** Settles when every publish made has settled. */
  readonly done: Promise<void>;
  #stopped = false;

  constructor(options: PublishLoadOptions) {
    this.done = this.#run(options);
  }

  async #run({ publish, total, inFlight = 20, maxMs = 120_000, pause }: PublishLoadOptions): Promise<void> {
    const pending = new Set<Promise<void>>();
    const ends = Date.now() + maxMs;
    for (let i = 0; i < total && !this.#stopped && Date.now() < ends; i++) {
      const key = String(i);
      this.published++;
      const one: Promise<void> = publish(key)
        .then(
          () => void this.resolved.add(key),
          (error: { code?: string; message?: string }) => {
            this.rejected.set(error.code ?? 'unknown', (this.rejected.get(error.code ?? 'unknown') ?? 0) + 1);
            this.lastRejection = error.message;
          },
        )
        .finally(() => pending.delete(one));
      pending.add(one);
      if (pending.size >= inFlight) await Promise.race(pending);
      const wait = pause?.(this) ?? 0;
      if (wait > 0) await sleep(wait);
    }
    await Promise.all(pending);
  }

  stop(): Promise<void> {
    this.#stopped = true;
    return this.done;
  }

  get refused(): number {
    return [...this.rejected.values()].reduce((a, b) => a + b, 0);
  }

  /** `3000 published, 2980 resolved, 20 refused (CONNECTION 20)` */
  summary(): string {
    const codes = [...this.rejected].map(([code, n]) => `${code} ${n}`).join(', ') || 'none';
    return `${this.published} published, ${this.resolved.size} resolved, ${this.refused} refused (${codes})`;
  }
}

/** What a subscriber received of a PublishLoad: give `handler` to subscribe. */
export class Received {
  readonly counts = new Map<string, number>();
  readonly handler = (message: Message): void => {
    const key = decoder.decode(message.data);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  };

  /** The keys of `load` whose publish resolved and that never arrived. */
  missing(load: PublishLoad): string[] {
    return [...load.resolved].filter((key) => !this.counts.has(key));
  }

  /** Waits (bounded) until everything whose publish resolved has arrived; returns what has not. */
  async drained(load: PublishLoad, ms = 60_000): Promise<string[]> {
    await until(() => this.missing(load).length === 0, ms);
    return this.missing(load);
  }

  get duplicates(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n - 1, 0);
  }

  /** `2980 received, 0 duplicates, 0 lost` */
  summary(load: PublishLoad): string {
    return `${this.counts.size} received, ${this.duplicates} duplicates, ${this.missing(load).length} lost`;
  }
}
