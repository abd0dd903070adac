// Requests waiting for their replies, matched by id. Shared by adapters that correlate replies
// themselves; a reply for an id no longer waiting (it timed out or was aborted) is dropped.

import type { RequestCall } from './call.js';
import type { Message } from './message.js';

/** What waits for a reply: a request of the core, or anything that settles like one. */
type Waiting = Pick<RequestCall, 'resolve' | 'reject'> & { readonly message?: Message };

export class PendingReplies {
  readonly #waiting = new Map<string, Waiting>();

  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Waits for the reply to `id` on behalf of `call`; forgets it when the core ends the call first.
   * `left`, when given, runs once as the request leaves the table: `cancelled` when the core ended it
   * (send the backend's own cancel then), not when it was resolved or rejected here.
   */
  add(id: string, call: RequestCall, left?: (cancelled: boolean) => void): void {
    const entry: Waiting = left
      ? {
          message: call.message,
          resolve: (reply) => (left(false), call.resolve(reply)),
          reject: (error) => (left(false), call.reject(error)),
        }
      : call;
    this.#waiting.set(id, entry);
    call.onCancel(() => {
      if (this.#waiting.get(id) !== entry) return;
      this.#waiting.delete(id);
      left?.(true);
    });
  }

  /** Waits for the reply to `id`; rejects with `signal.reason` when the signal aborts. */
  wait(id: string, signal: AbortSignal): Promise<Message> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Message>((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.delete(id);
        reject(signal.reason);
      };
      const settled = () => signal.removeEventListener('abort', onAbort);
      this.#waiting.set(id, {
        resolve: (reply) => (settled(), resolve(reply)),
        reject: (error) => (settled(), reject(error)),
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands `reply` to the request `id`; false when nobody waits for it any more. */
  resolve(id: string, reply: Message): boolean {
    const waiting = this.#take(id);
    waiting?.resolve(reply);
    return waiting !== undefined;
  }

  /**
   * Fails the request `id`, e.g. because the backend refused it; `error` may be made from the
   * request that was sent (for requests added with `add`), to name its service.
   */
  reject(id: string, error: unknown | ((request: Message | undefined) => unknown)): boolean {
    const waiting = this.#take(id);
    waiting?.reject(typeof error === 'function' ? error(waiting.message) : error);
    return waiting !== undefined;
  }

  /** Fails every waiting request, e.g. when the connection it was sent on is lost. */
  rejectAll(error: unknown): void {
    for (const id of [...this.#waiting.keys()]) this.reject(id, error);
  }

  #take(id: string): Waiting | undefined {
    const waiting = this.#waiting.get(id);
    if (waiting) this.#waiting.delete(id);
    return waiting;
  }
}
