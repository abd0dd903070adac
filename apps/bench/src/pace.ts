// Sending on a fixed schedule (open loop): message i is due at start + i × interval, whatever the
// replies do. A late sender catches up in bursts; it never skips, and never waits on a reply.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';

/** Nanoseconds of the monotonic clock that every process on a host shares, as a double. */
export const now = (): number => Number(process.hrtime.bigint());

export interface Schedule {
  startNs: number;
  intervalNs: number;
  /** Whether to send message i, due at intendedNs. Returning false ends the schedule. */
  more(i: number, intendedNs: number): boolean;
  send(i: number, intendedNs: number): void;
}

export async function openLoop(schedule: Schedule): Promise<number> {
  let i = 0;
  for (;;) {
    let burst = 0;
    let t = now();
    for (let due = schedule.startNs + i * schedule.intervalNs; due <= t; due = schedule.startNs + i * schedule.intervalNs) {
      if (!schedule.more(i, due)) return i;
      schedule.send(i, due);
      i++;
      if (++burst >= 256) {
        await yieldToLoop();
        burst = 0;
        t = now();
      }
    }
    const next = schedule.startNs + i * schedule.intervalNs;
    if (!schedule.more(i, next)) return i;
    const aheadMs = (next - now()) / 1e6;
    if (aheadMs > 1.5) await sleep(aheadMs - 1);
    else await yieldToLoop();
  }
}

/** Limits the promises in flight: `add` waits while `limit` are pending. Counts those that fail. */
export class Window {
  #inFlight = 0;
  #failed = 0;
  #waiter?: () => void;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get failed(): number {
    return this.#failed;
  }

  /**
   * Tracks `work` (when it is a promise). Returns a promise to wait on only when the window is full,
   * and undefined while there is room: a sender that awaited every message would hand the event loop
   * back after each one, and clients that flush once per turn (NATS) would write each message alone.
   */
  add(work: Promise<unknown> | unknown): Promise<void> | undefined {
    if (!(work instanceof Promise)) return undefined;
    this.#inFlight++;
    work.then(this.#done, this.#fail);
    if (this.#inFlight >= this.#limit) return new Promise<void>((resolve) => (this.#waiter = resolve));
    return undefined;
  }

  /** Resolves when nothing is in flight. */
  async drain(): Promise<void> {
    while (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#waiter = resolve));
  }

  readonly #fail = (): void => {
    this.#failed++;
    this.#done();
  };

  readonly #done = (): void => {
    this.#inFlight--;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  };
}
