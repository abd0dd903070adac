// Requests waiting for their replies, matched by id. Shared by adapters that correlate replies
// themselves; a reply for an id no longer waiting (it timed out or was aborted) is dropped.

import type { Message } from './message.js';

interface Waiting {
  resolve: (message: Message) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

export class PendingReplies {
  #waiting = new Map<string, Waiting>();

  get size(): number {
    return this.#waiting.size;
  }

  /** Waits for the reply to `id`; rejects with `signal.reason` when the signal aborts. */
  wait(id: string, signal: AbortSignal): Promise<Message> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Message>((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.delete(id);
        reject(signal.reason);
      };
      this.#waiting.set(id, { resolve, reject, signal, onAbort });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands `reply` to the request `id`; false when nobody waits for it any more. */
  resolve(id: string, reply: Message): boolean {
    const waiting = this.#take(id);
    waiting?.resolve(reply);
    return waiting !== undefined;
  }

  /** Fails the request `id`, e.g. because the backend refused it. */
  reject(id: string, error: unknown): boolean {
    const waiting = this.#take(id);
    waiting?.reject(error);
    return waiting !== undefined;
  }

  /** Fails every waiting request, e.g. when the connection it was sent on is lost. */
  rejectAll(error: unknown): void {
    for (const id of [...this.#waiting.keys()]) this.reject(id, error);
  }

  #take(id: string): Waiting | undefined {
    const waiting = this.#waiting.get(id);
    if (!waiting) return undefined;
    this.#waiting.delete(id);
    waiting.signal.removeEventListener('abort', waiting.onAbort);
    return waiting;
  }
}
