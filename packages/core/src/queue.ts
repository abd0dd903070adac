// A bounded async queue: the buffer between a backend that pushes and a consumer that pulls with
// `for await`, or that `consume`s with a handler. It holds at most `limit` messages; what it does
// past that depends on delivery. It also decides when a message is settled: implicitly (when the
// consumer moves on), or by the consumer (`manual`, each message an AckableMessage).

import type { Settle } from './backend.js';
import { ClosedError, InvalidArgumentError } from './errors.js';
import type { AckableMessage, Headers, Message, NackOptions } from './message.js';

type Handler = (message: Message) => void | Promise<void>;

/** How messages of an at-least-once subscription are settled. */
export interface QueueAcks {
  /** Each message is an AckableMessage, settled by the consumer only. */
  readonly manual: boolean;
  /**
   * A message whose `maxDeliveries`-th delivery failed is passed to `send` (which publishes the dead
   * letter) and acknowledged once that resolves; a rejection gives it back instead.
   */
  readonly deadLetter?: {
    readonly maxDeliveries: number;
    send(message: Message, deliveries: number, error: unknown): Promise<void>;
  };
}

/** Gives a message back, or dead-letters it when that was its last allowed delivery. */
function fail(acks: QueueAcks | undefined, message: Message, settle: Settle | undefined, deliveries: number | undefined, error: unknown, delay?: number): void {
  const deadLetter = acks?.deadLetter;
  if (deadLetter && deliveries !== undefined && deliveries >= deadLetter.maxDeliveries) {
    deadLetter.send(message, deliveries, error).then(
      () => settle?.(),
      (failure: unknown) => settle?.(failure),
    );
  } else {
    settle?.(error, delay);
  }
}

const OPEN = 0;
const ACKED = 1;
const NACKED = 2;
const GIVEN_BACK = 3;
const STATE_NAMES = ['open', 'acked', 'nacked', 'given back'];
// The queue's own calls on a message, kept off its public face.
const failIfOpen = Symbol('failIfOpen');
const giveBack = Symbol('giveBack');

/** A delivered message of a manual subscription; its methods live on the prototype, so a message costs one object. */
class Settleable implements AckableMessage {
  readonly id: string;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers;
  readonly deliveries: number | undefined;
  #settle: Settle | undefined;
  #state = OPEN;
  readonly #unsettled: Set<Settleable>;
  readonly #acks: QueueAcks;

  constructor(message: Message, settle: Settle | undefined, deliveries: number | undefined, unsettled: Set<Settleable>, acks: QueueAcks) {
    this.id = message.id;
    this.subject = message.subject;
    this.data = message.data;
    this.headers = message.headers;
    this.deliveries = deliveries;
    this.#settle = settle;
    this.#unsettled = unsettled;
    this.#acks = acks;
    unsettled.add(this);
  }

  ack(): void {
    this.#take(ACKED)?.();
  }

  nack(options?: NackOptions): void {
    const delay = options?.delay ?? 0;
    if (!(delay >= 0) || !Number.isFinite(delay)) {
      throw new InvalidArgumentError(`nack's delay must be a number of milliseconds, 0 or more, got ${delay}`);
    }
    const error = options?.error ?? new Error('nacked by the consumer');
    const settle = this.#take(NACKED);
    fail(this.#acks, this, settle, this.deliveries, error, delay > 0 ? delay : undefined);
  }

  /** The handler threw: nack, unless it settled the message itself first. */
  [failIfOpen](error: unknown): void {
    if (this.#state === OPEN) fail(this.#acks, this, this.#take(NACKED), this.deliveries, error);
  }

  /** The subscription ended: redeliver. */
  [giveBack](reason: unknown): void {
    if (this.#state === OPEN) this.#take(GIVEN_BACK)?.(reason);
  }

  #take(next: number): Settle | undefined {
    if (this.#state === GIVEN_BACK) {
      throw new ClosedError(`message ${this.id} was given back for redelivery when its subscription ended; settle messages before unsubscribing`);
    }
    if (this.#state !== OPEN) {
      throw new InvalidArgumentError(`message ${this.id} is already ${STATE_NAMES[this.#state]}; settle a message once, with ack() or nack()`);
    }
    this.#state = next;
    this.#unsettled.delete(this);
    const settle = this.#settle;
    this.#settle = undefined;
    return settle;
  }
}

export class MessageQueue implements AsyncIterable<Message> {
  #items: Message[] = [];
  #settles: (Settle | undefined)[] = [];
  #deliveries: (number | undefined)[] = [];
  #head = 0;
  #waiter: ((result: IteratorResult<Message>) => void) | undefined;
  #failWaiter: ((error: unknown) => void) | undefined;
  #inHand: Settle | undefined;
  #inHandDeliveries: number | undefined;
  #ended = false;
  #error: unknown;
  #dropped = 0;
  #iterating = false;
  #handler: Handler | undefined;
  #onError: ((error: unknown, message: Message) => void) | undefined;
  /** A handler is running: the next message waits for it. */
  #busy = false;
  #draining = false;
  readonly #acks: QueueAcks | undefined;
  /** Manual: the messages delivered (or queued) and not settled yet, given back at the end. */
  readonly #unsettled: Set<Settleable> | undefined;

  /**
   * @param limit messages held before overflow.
   * @param dropWhenFull at-most-once: drop past the limit and count it. Otherwise hold everything:
   *   an at-least-once backend bounds what it hands over by its own prefetch.
   * @param acks at-least-once: manual settlement and dead letters; none: settled implicitly.
   */
  constructor(
    readonly limit: number,
    readonly dropWhenFull: boolean,
    acks?: QueueAcks,
  ) {
    this.#acks = acks;
    if (acks?.manual) this.#unsettled = new Set();
  }

  get dropped(): number {
    return this.#dropped;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** `deliveries`: how many times the backend has delivered it, this time included, when it counts. */
  push(message: Message, settle?: Settle, deliveries?: number): void {
    if (this.#ended) {
      // A ClosedError: given back unconsumed, which is no failed delivery (see Settle).
      settle?.(new ClosedError('the subscription ended before the message was consumed'));
      return;
    }
    if (this.#unsettled) {
      // The message settles itself from now on: the queue holds no settle for it.
      message = new Settleable(message, settle, deliveries, this.#unsettled, this.#acks as QueueAcks);
      settle = undefined;
    }
    // The callback form takes a message straight from the backend when nothing is ahead of it.
    if (this.#handler && !this.#busy && this.length === 0) {
      this.#dispatch(message, settle, deliveries);
      return;
    }
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = this.#failWaiter = undefined;
      this.#inHand = settle;
      this.#inHandDeliveries = deliveries;
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
    this.#deliveries.push(deliveries);
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

  /**
   * Ends now and gives back everything not yet consumed (nack). The message in hand counts as
   * consumed (ack), except with manual acks, where everything not settled by the consumer is given back.
   */
  discard(reason: unknown): void {
    this.end();
    this.#settleHand();
    for (let i = this.#head; i < this.#settles.length; i++) this.#settles[i]?.(reason);
    if (this.#unsettled) for (const message of [...this.#unsettled]) message[giveBack](reason);
    this.#items = [];
    this.#settles = [];
    this.#deliveries = [];
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
      this.#inHandDeliveries = this.#deliveries[this.#head];
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
   * rejects fails the message (nack, or dead letter) and is reported to `onError`; one that returns
   * acks it. With manual acks a message is settled by the handler; one that throws before it did nacks it.
   */
  consume(handler: Handler, onError: (error: unknown, message: Message) => void): void {
    if (this.#iterating || this.#handler) throw new Error('a subscription can be consumed only once');
    this.#handler = handler;
    this.#onError = onError;
    this.#drain();
  }

  #dispatch(message: Message, settle: Settle | undefined, deliveries: number | undefined): void {
    this.#busy = true;
    this.#inHand = settle;
    this.#inHandDeliveries = deliveries;
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
      const reason = error ?? new Error('the handler failed');
      if (message instanceof Settleable) {
        message[failIfOpen](reason);
      } else {
        const settle = this.#inHand;
        this.#inHand = undefined;
        fail(this.#acks, message, settle, this.#inHandDeliveries, reason);
      }
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
        const deliveries = this.#deliveries[this.#head];
        this.#advance();
        this.#dispatch(message, settle, deliveries);
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
      this.#deliveries = this.#deliveries.slice(this.#head);
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
