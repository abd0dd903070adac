// A bounded async queue: the buffer between a backend that pushes and a consumer that pulls with
// `for await`, or that `consume`s with a handler. It holds at most `limit` messages; what it does
// past that depends on delivery.

import type { Message } from './message.js';

type Settle = (error?: unknown) => void;
type Handler = (message: Message) => void | Promise<void>;

export class MessageQueue implements AsyncIterable<Message> {
  #items: Message[] = [];
  #settles: (Settle | undefined)[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<Message>) => void) | undefined;
  #failWaiter: ((error: unknown) => void) | undefined;
  #inHand: Settle | undefined;
  #ended = false;
  #error: unknown;
  #dropped = 0;
  #iterating = false;
  #handler: Handler | undefined;
  #onError: ((error: unknown, message: Message) => void) | undefined;
  /** A handler is running: the next message waits for it. */
  #busy = false;
  #draining = false;

  /**
   * @param limit messages held before overflow.
   * @param dropWhenFull at-most-once: drop past the limit and count it. Otherwise hold everything:
   *   an at-least-once backend bounds what it hands over by its own prefetch.
   */
  constructor(
    readonly limit: number,
    readonly dropWhenFull: boolean,
  ) {}

  get dropped(): number {
    return this.#dropped;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(message: Message, settle?: Settle): void {
    if (this.#ended) {
      settle?.(new Error('subscription ended before the message was consumed'));
      return;
    }
    // The callback form takes a message straight from the backend when nothing is ahead of it.
    if (this.#handler && !this.#busy && this.length === 0) {
      this.#dispatch(message, settle);
      return;
    }
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = this.#failWaiter = undefined;
      this.#inHand = settle;
      waiter({ value: message, done: false });
      return;
    }
    if (this.dropWhenFull && this.length >= this.limit) {
      this.#dropped++;
      settle?.();
      return;
    }
    this.#items.push(message);
    this.#settles.push(settle);
  }

  /** No more messages: iteration ends after what is queued. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#wake();
  }

  /** Iteration throws `error` after what is queued. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#error = error;
    this.end();
  }

  /** Ends now and gives back everything not yet consumed (nack). */
  discard(reason: unknown): void {
    this.end();
    this.#settleHand();
    for (let i = this.#head; i < this.#settles.length; i++) this.#settles[i]?.(reason);
    this.#items = [];
    this.#settles = [];
    this.#head = 0;
  }

  #settleHand(error?: unknown): void {
    const settle = this.#inHand;
    this.#inHand = undefined;
    settle?.(error);
  }

  #wake(): void {
    if (!this.#waiter) return;
    const waiter = this.#waiter;
    const failWaiter = this.#failWaiter;
    this.#waiter = this.#failWaiter = undefined;
    if (this.#error !== undefined) failWaiter?.(this.#error);
    else waiter({ value: undefined, done: true });
  }

  /** The next message, or done. The previous message counts as handled when this is called. */
  next(): Promise<IteratorResult<Message>> {
    this.#settleHand();
    if (this.length > 0) {
      const value = this.#items[this.#head] as Message;
      this.#inHand = this.#settles[this.#head];
      this.#advance();
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) {
      return this.#error !== undefined ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failWaiter = reject;
    });
  }

  /**
   * The callback form: each message goes to `handler` as it arrives, one at a time in arrival order,
   * with no promise of its own when the handler returns synchronously. A handler that throws or
   * rejects fails the message (nack) and is reported to `onError`; one that returns acks it.
   */
  consume(handler: Handler, onError: (error: unknown, message: Message) => void): void {
    if (this.#iterating || this.#handler) throw new Error('a subscription can be consumed only once');
    this.#handler = handler;
    this.#onError = onError;
    this.#drain();
  }

  #dispatch(message: Message, settle: Settle | undefined): void {
    this.#busy = true;
    this.#inHand = settle;
    let result: void | Promise<void>;
    try {
      result = this.#handler!(message);
    } catch (error) {
      return this.#handled(message, true, error);
    }
    if (result instanceof Promise) {
      result.then(
        () => this.#handled(message, false),
        (error: unknown) => this.#handled(message, true, error),
      );
    } else {
      this.#handled(message, false);
    }
  }

  #handled(message: Message, failed: boolean, error?: unknown): void {
    if (failed) {
      this.#settleHand(error ?? new Error('the handler failed'));
      this.#onError?.(error, message);
    } else {
      this.#settleHand();
    }
    this.#busy = false;
    this.#drain();
  }

  /** Hands what is queued to the handler; a loop, not recursion, when handlers return synchronously. */
  #drain(): void {
    if (this.#draining || !this.#handler) return;
    this.#draining = true;
    try {
      while (!this.#busy && this.length > 0) {
        const message = this.#items[this.#head] as Message;
        const settle = this.#settles[this.#head];
        this.#advance();
        this.#dispatch(message, settle);
      }
    } finally {
      this.#draining = false;
    }
  }

  #advance(): void {
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#settles = this.#settles.slice(this.#head);
      this.#head = 0;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    if (this.#iterating || this.#handler) throw new Error('a subscription can be iterated only once');
    this.#iterating = true;
    return {
      next: () => this.next(),
      return: async () => {
        this.#settleHand();
        return { value: undefined, done: true };
      },
    };
  }
}
