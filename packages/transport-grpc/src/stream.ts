// The streaming machinery shared by both ends of a Stream call: an outbox drained by its own sender
// loop (which honours write() returning false and waits for 'drain'), a window that bounds the
// requests in flight, and the reordering that sends replies in the order their requests arrived.

import type { Writable } from 'node:stream';
import type { Frame } from './wire.js';

/**
 * Frames waiting to be written, and the loop that writes them. The receiving side never waits for
 * it: a stream reads and writes at the same time. Holds at most `limit` frames: `put` waits for
 * room (back-pressure to the caller), `offer` refuses (the host drops rather than stall everyone).
 */
export class Outbox {
  #frames: Frame[] = [];
  #room: (() => void)[] = [];
  #stream: Writable | undefined;
  /** The sender loop of the attached stream; it ends when the stream is ended, gone or detached. */
  #sending: Promise<void> = Promise.resolve();
  /** Set by `end`: once everything queued is written, the loop ends the stream. */
  #ending = false;
  #wake: (() => void) | undefined;
  /** Places given to waiting `put` callers that have not queued their frame yet. */
  #promised = 0;
  /** Frames refused by `offer` because the outbox was full. */
  dropped = 0;

  constructor(readonly limit: number) {}

  get length(): number {
    return this.#frames.length;
  }

  /** Queues `frame`; false (and counted in `dropped`) when the outbox is full. */
  offer(frame: Frame): boolean {
    if (this.#frames.length >= this.limit) {
      this.dropped++;
      return false;
    }
    this.#push(frame);
    return true;
  }

  /** Queues a frame that must not be lost to the limit: registrations and cancellations. */
  force(frame: Frame): void {
    this.#push(frame);
  }

  /**
   * Queues `frame` at once when there is room and no earlier `put` waits for it; false otherwise.
   * The hot path: no promise when nothing has to wait.
   */
  tryPut(frame: Frame): boolean {
    if (this.#frames.length + this.#promised >= this.limit || this.#room.length > 0) return false;
    this.#push(frame);
    return true;
  }

  /** Queues `frame` once there is room, in the order callers asked. */
  async put(frame: Frame): Promise<void> {
    if (this.tryPut(frame)) return;
    await new Promise<void>((resolve) => this.#room.push(resolve));
    this.#promised--;
    this.#push(frame);
  }

  /** Starts writing to `stream`; the loop ends when the stream closes or `detach` is called. */
  attach(stream: Writable): void {
    this.#stream = stream;
    this.#sending = this.#send(stream);
  }

  /**
   * Writes everything queued, including the frames of `put` callers still waiting for room, then
   * ends (half-closes) the stream. Resolves once the stream is ended, or gone, or detached.
   */
  end(): Promise<void> {
    this.#ending = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    return this.#sending;
  }

  /** Stops writing and forgets what was not written: it belonged to a stream that is gone. */
  detach(): void {
    this.#stream = undefined;
    this.#frames = [];
    this.#wake?.();
    this.#makeRoom();
  }

  #push(frame: Frame): void {
    this.#frames.push(frame);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #makeRoom(): void {
    while (this.#room.length > 0 && this.#frames.length + this.#promised < this.limit) {
      this.#promised++;
      this.#room.shift()?.();
    }
  }

  async #send(stream: Writable): Promise<void> {
    const gone = new Promise<void>((resolve) => stream.once('close', resolve));
    while (this.#stream === stream && !stream.destroyed && !stream.writableEnded) {
      const frame = this.#frames.shift();
      if (frame === undefined) {
        if (this.#ending && this.#room.length === 0 && this.#promised === 0) {
          stream.end();
          return;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      this.#makeRoom();
      if (!stream.write(frame)) {
        await Promise.race([new Promise<void>((resolve) => stream.once('drain', resolve)), gone]);
      }
    }
  }
}

/** At most `size` requests in flight; later ones wait for a free place, in order. */
export class Window {
  #used = 0;
  #waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** Takes a place at once when one is free and nobody waits before; false otherwise. */
  tryAcquire(): boolean {
    if (this.#used >= this.size || this.#waiting.length > 0) return false;
    this.#used++;
    return true;
  }

  /** Takes a place; rejects with `signal.reason` if the signal aborts first. */
  async acquire(signal: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return;
    await new Promise<void>((resolve, reject) => {
      const take = () => {
        signal.removeEventListener('abort', onAbort);
        this.#used++;
        resolve();
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(take), 1);
        reject(signal.reason);
      };
      this.#waiting.push(take);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    this.#used--;
    if (this.#used < this.size) this.#waiting.shift()?.();
  }
}

/**
 * Replies in the order their requests arrived: a reply that is ready early waits for the ones
 * before it. `reserve` is called as a request arrives, the returned function once its reply is ready.
 */
export class InOrder {
  #slots: (Frame | null)[] = [];
  #base = 0;

  constructor(readonly write: (frame: Frame) => void) {}

  reserve(): (frame: Frame) => void {
    const at = this.#base + this.#slots.length;
    this.#slots.push(null);
    return (frame) => {
      if (at < this.#base) return; // reset since: the stream it was for is gone
      this.#slots[at - this.#base] = frame;
      while (this.#slots.length > 0 && this.#slots[0] !== null) {
        this.write(this.#slots.shift() as Frame);
        this.#base++;
      }
    };
  }

  /** Forgets the replies still awaited: their stream is gone. */
  reset(): void {
    this.#base += this.#slots.length;
    this.#slots = [];
  }
}
