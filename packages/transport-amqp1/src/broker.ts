// One AMQP connection and what travels on it: two anonymous senders (ActiveMQ's ANONYMOUS-RELAY, so
// one link sends to any address), one pre-settled (at most once, nothing to wait for) and one whose
// deliveries the broker settles (accepted once stored), and the receivers of the subscriptions.

import { ClosedError, ConnectionError, type MsgError, type StatusFeed } from '@msg/core';
import type { Connection, Delivery, EventContext, Message as AmqpMessage, Receiver, ReceiverOptions, Sender } from 'rhea';
import { closeConnection, describeCondition, toConnectionError } from './connection.js';
import type { Credit } from './credit.js';
import { type Outgoing, encode } from './wire.js';

interface Waiter {
  resolve: () => void;
  reject: (error: MsgError) => void;
}

interface Waiting {
  bytes: Buffer;
  waiter: Waiter;
}

export type OnMessage = (message: AmqpMessage, delivery: Delivery, receiver: Receiver) => void;

export class Broker {
  readonly connection: Connection;
  /** Where, for messages: `amqp1://127.0.0.1:5673`. */
  readonly where: string;
  /** The largest encoded message the broker takes (its connector's `transport.maxFrameSize`). */
  readonly maxFrameSize: number;
  readonly #presettled: Sender;
  readonly #confirmed: Sender;
  /** Deliveries waiting for the broker's outcome, failed on a lost connection or close so that none hangs. */
  readonly #confirming = new Map<Delivery, Waiter>();
  /**
   * What waits for credit or for room in the session's window (rhea throws past it), in order; what
   * waits at a lost connection or at close is failed.
   */
  readonly #backlog = new Map<Sender, Waiting[]>();
  #connected = true;
  #closing = false;
  /** Attaches waiting for the broker's answer, each failed when the connection is lost first. */
  readonly #attaching = new Set<() => void>();

  /**
   * `status` gets the connection's losses, reconnect attempts and returns, and the failures the
   * broker reports that no one waits for; `what` names the connection there: `the connection to amqp1://...`.
   */
  constructor(connection: Connection, where: string, maxFrameSize: number, status: StatusFeed, reconnectPeriod: number, what = `the connection to ${where}`) {
    const report = (error: MsgError) => status.error(what, error);
    let attempt = 0;
    this.connection = connection;
    this.where = where;
    this.maxFrameSize = maxFrameSize;
    this.#presettled = connection.open_sender({ target: {}, snd_settle_mode: 1 });
    this.#confirmed = connection.open_sender({ target: {}, snd_settle_mode: 0, autosettle: true });
    for (const outcome of ['rejected', 'released', 'modified'] as const) {
      this.#confirmed.on(outcome, (context: EventContext) => {
        const remote = (context.delivery?.remote_state as { error?: unknown } | undefined)?.error;
        this.#settle(context.delivery, new ConnectionError(`amqp1: the broker ${outcome} the message${remote ? ` (${describeCondition(remote)})` : ''}`));
      });
    }
    this.#confirmed.on('accepted', (context: EventContext) => this.#settle(context.delivery));
    for (const sender of [this.#presettled, this.#confirmed]) {
      this.#backlog.set(sender, []);
      sender.on('sendable', () => this.#flush(sender));
    }
    for (const sender of [this.#presettled, this.#confirmed]) {
      sender.on('sender_error', (context: EventContext) => report(toConnectionError(context.sender?.error, `the sending link to ${where}`)));
    }
    connection.on('connection_open', () => {
      if (!this.#connected && !this.#closing) status.emit({ type: 'reconnected', connection: what });
      this.#connected = true;
      attempt = 0;
    });
    // Failures the broker reports on the connection or a link, which no one else is waiting for.
    connection.on('connection_error', (context: EventContext) => report(toConnectionError(context.connection.error, what)));
    connection.on('receiver_error', (context: EventContext) => report(toConnectionError(context.receiver?.error, `a receiving link of ${what}`)));
    connection.on('error', (error: unknown) => report(toConnectionError(error, what)));
    connection.on('disconnected', (context: EventContext) => {
      for (const lost of [...this.#attaching]) lost();
      const wasConnected = this.#connected;
      this.#connected = false;
      this.#failBacklog(new ConnectionError(`amqp1: the connection to ${where} was lost before the message was sent; try again`));
      // rhea says `disconnected` for the loss and again for each attempt that fails.
      if (!this.#closing && wasConnected) {
        const error = new ConnectionError(`amqp1: ${what} was lost (${describeCondition(context.error ?? 'closed by the broker')}); it reconnects unless reconnectPeriod is 0`, { cause: context.error });
        status.emit({ type: 'disconnected', connection: what, error });
      }
      if (!this.#closing && context.reconnecting) status.emit({ type: 'reconnecting', connection: what, attempt: ++attempt, delayMs: reconnectPeriod });
      // rhea forgets what it had not sent, and the outcome of what it had may never come.
      this.#failConfirming(new ConnectionError(`amqp1: the connection to ${where} was lost before the broker confirmed the message; it may or may not have been stored`));
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  checkConnected(what: string): void {
    if (!this.#connected) {
      throw new ConnectionError(`amqp1: ${what} failed: the connection to ${this.where} is lost and being re-established; try again`);
    }
  }

  /**
   * At most once: encoded (the data is copied) and handed to rhea. Returns nothing when the link
   * had credit, else a promise that resolves once the message went out behind the others waiting:
   * backpressure from the broker (a slow subscriber, producer flow control).
   */
  send(what: string, out: Outgoing): void | Promise<void> {
    this.checkConnected(what);
    const bytes = encode(what, out, this.maxFrameSize);
    if (this.#ready(this.#presettled)) {
      this.#presettled.send(bytes, undefined, 0);
      return;
    }
    return new Promise<void>((resolve, reject) => this.#wait(this.#presettled, bytes, { resolve, reject }));
  }

  /** Resolves once the broker accepted the message (stored it, for a persistent one). */
  sendConfirmed(what: string, out: Outgoing): Promise<void> {
    this.checkConnected(what);
    const bytes = encode(what, out, this.maxFrameSize);
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.#ready(this.#confirmed)) this.#transfer(this.#confirmed, bytes, waiter);
      else this.#wait(this.#confirmed, bytes, waiter);
    });
  }

  /** Whether a message may go out now: nothing waits before it, and the link has credit and room. */
  #ready(sender: Sender): boolean {
    return (this.#backlog.get(sender) as Waiting[]).length === 0 && sender.sendable();
  }

  #wait(sender: Sender, bytes: Buffer, waiter: Waiter): void {
    (this.#backlog.get(sender) as Waiting[]).push({ bytes, waiter });
  }

  /** Pre-settled, the message is done once sent; confirmed, once the broker accepts it. */
  #transfer(sender: Sender, bytes: Buffer, waiter: Waiter): void {
    const delivery = sender.send(bytes, undefined, 0);
    if (sender === this.#confirmed) this.#confirming.set(delivery, waiter);
    else waiter.resolve();
  }

  #flush(sender: Sender): void {
    const backlog = this.#backlog.get(sender) as Waiting[];
    let sent = 0;
    while (sent < backlog.length && sender.sendable()) {
      const next = backlog[sent++] as Waiting;
      this.#transfer(sender, next.bytes, next.waiter);
    }
    backlog.splice(0, sent);
  }

  #failBacklog(error: MsgError): void {
    for (const queue of this.#backlog.values()) {
      const waiting = queue.splice(0);
      for (const { waiter } of waiting) waiter.reject(error);
    }
  }

  #settle(delivery: Delivery | undefined, error?: MsgError): void {
    const waiting = delivery && this.#confirming.get(delivery);
    if (!waiting) return;
    this.#confirming.delete(delivery);
    if (error) waiting.reject(error);
    else waiting.resolve();
  }

  #failConfirming(error: MsgError): void {
    const waiting = [...this.#confirming.values()];
    this.#confirming.clear();
    for (const { reject } of waiting) reject(error);
  }

  /**
   * Attaches a receiver and resolves once the broker has attached it (the subscription exists).
   * A refusal rejects, and the link is closed. After a reconnect rhea attaches it again.
   */
  receive(options: ReceiverOptions, onMessage: OnMessage, what: string, credit?: Credit): Promise<Receiver> {
    this.checkConnected(what);
    const receiver = this.connection.open_receiver(options);
    credit?.attach(receiver);
    receiver.on('message', (context: EventContext) => onMessage(context.message as AmqpMessage, context.delivery as Delivery, receiver));
    return this.#attached(receiver, what);
  }

  /**
   * Resolves once the broker answers the attach; a detach instead (a refusal) rejects, and so does a
   * lost connection: the connection's one `disconnected` handler fails every attach still waiting
   * (a listener each would pile up with many subscriptions made at once).
   */
  #attached(receiver: Receiver, what: string): Promise<Receiver> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.#attaching.delete(lost);
        receiver.removeListener('receiver_open', onOpen);
        receiver.removeListener('receiver_error', onError);
      };
      const onOpen = () => {
        cleanup();
        resolve(receiver);
      };
      const onError = (context: EventContext) => {
        cleanup();
        receiver.close();
        reject(toConnectionError(context.receiver?.error ?? new Error('the broker refused the link'), what));
      };
      const lost = () => {
        cleanup();
        reject(new ConnectionError(`amqp1: ${what} failed: the connection was lost before the broker answered; try again`));
      };
      this.#attaching.add(lost);
      receiver.on('receiver_open', onOpen);
      receiver.on('receiver_error', onError);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    // What was handed to rhea (every publish that resolved) goes out before the close frame.
    await closeConnection(this.connection);
    this.#connected = false;
    this.#failBacklog(new ClosedError('the transport was closed before the message could be sent'));
    this.#failConfirming(new ClosedError('the transport was closed before the broker confirmed the message'));
  }
}

/** Detaches a receiver and resolves once the broker answered, or after `ms`; `keep` detaches without closing (a durable subscription stays). */
export function detach(receiver: Receiver, keep: boolean, ms = 2000): Promise<void> {
  if (!receiver.connection.is_open() || receiver.is_closed()) {
    if (keep) receiver.detach();
    else receiver.close();
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      receiver.removeListener('receiver_close', done);
      resolve();
    }
    receiver.once('receiver_close', done);
    if (keep) receiver.detach();
    else receiver.close();
  });
}
