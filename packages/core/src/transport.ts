// The contract every transport keeps. The conformance suite (@msg/conformance) is the executable
// version of the rules written here.

import type { TransportHooks } from './hooks.js';
import type { AckableMessage, Headers, Message, Reply } from './message.js';
import type { StatusOptions, StatusStream } from './status.js';

export type Pattern = 'request' | 'publish' | 'survey' | 'bus';

/** What a transport promises. The conformance suite checks exactly this, no more and no less. */
export interface Capabilities {
  /** The patterns it supports; the others throw UnsupportedError. */
  readonly patterns: readonly Pattern[];
  /**
   * at-most-once: a message may be lost (a slow subscriber, a full high-water mark, a reconnect),
   * never duplicated. at-least-once: every message whose publish resolved reaches every
   * subscription that existed then, possibly more than once.
   */
  readonly delivery: 'at-most-once' | 'at-least-once';
  /** per-publisher: one publisher's messages on one topic arrive in the order it sent them. */
  readonly ordering: 'per-publisher' | 'none';
  /** A subscription with a `durable` name receives what was published while it was away. */
  readonly durable: boolean;
  /**
   * The `start: 'earliest'` subscribe option: a durable subscription made for the first time begins
   * with the oldest message the backend still keeps of its topic, so it also receives what was
   * published before it existed (a log or a stream that keeps messages, not a queue made on demand).
   */
  readonly replay: boolean;
  /** Largest `data` in bytes that a message may carry; one byte more is PayloadTooLargeError. */
  readonly maxPayload: number;
  /** `*` and `>` in subscribe patterns. */
  readonly wildcards: boolean;
  /** Headers travel with messages. */
  readonly headers: boolean;
  /** `queue` subscriptions share a topic's messages, each reaching one member of the group. */
  readonly queueGroups: boolean;
  /**
   * The `deadLetter` subscribe option: the backend counts each message's deliveries, so that one
   * that failed `maxDeliveries` times is moved to a dead-letter topic. Only at-least-once transports
   * (which are also the ones that offer `ack: 'manual'`).
   */
  readonly deadLetter: boolean;
  /**
   * How long this backend takes to settle, so that tests and tools wait long enough for it and no
   * longer: a survey deadline that its respondents can meet, and the time after which a message
   * that has not arrived will not arrive.
   */
  readonly timing: {
    readonly surveyDeadlineMs: number;
    readonly settleMs: number;
  };
}

export interface RequestOptions {
  /** Milliseconds until the request fails with TimeoutError. Default 5000. */
  timeout?: number;
  /** Aborting rejects the request with AbortedError. */
  signal?: AbortSignal;
  headers?: Headers;
}

export interface PublishOptions {
  headers?: Headers;
}

export interface SubscribeOptions<M extends Message = Message> {
  /**
   * Callback form: each message is passed to `handler`, one at a time in arrival order, and the
   * subscription is not iterable. At-least-once transports acknowledge a message when its handler
   * resolves and redeliver it when the handler throws (with `ack: 'manual'`, see there).
   */
  handler?: (message: M) => void | Promise<void>;
  /** Called when `handler` throws; without it the error is printed once per subscription. */
  onError?: (error: unknown, message: M) => void;
  /**
   * `auto` (the default), at-least-once transports only: a message is acknowledged implicitly, when
   * its handler resolves, or in the iterator form when the loop asks for the next message (or
   * leaves). It is given back for redelivery when its handler throws, or when the subscription ends
   * before it was consumed.
   */
  ack?: 'auto';
  /** Members of one queue group share the topic: each message reaches one of them. */
  queue?: string;
  /** A durable subscription, resumed by name, receives what was published while it was away. */
  durable?: string;
  /**
   * Where a durable subscription made for the first time begins: `new` (the default) with what is
   * published from now on, `earliest` with the oldest message the backend still keeps of its topic
   * (as far back as its retention reaches). A durable name that exists already resumes where it
   * left off, whatever this says. `earliest` needs `durable` and `capabilities.replay`.
   */
  start?: 'new' | 'earliest';
  /**
   * Messages held for a consumer that is slower than the publisher. Past it, at-most-once
   * transports drop the newest message and count it in `dropped`; at-least-once transports stop
   * taking more from the backend (with `ack: 'manual'`: this many delivered and not yet settled).
   * Default 10,000.
   */
  maxPending?: number;
  /**
   * Where a message goes that keeps failing, instead of being redelivered for ever. Needs
   * `capabilities.deadLetter`; UnsupportedError otherwise.
   */
  deadLetter?: DeadLetterOptions;
  signal?: AbortSignal;
}

/**
 * Explicit settlement: every delivered message is an AckableMessage that stays unsettled (and
 * counts against `maxPending`) until its consumer calls `ack()` or `nack()`; moving on to the next
 * message settles nothing. A handler that throws before settling its message nacks it. What is
 * still unsettled when the subscription ends (unsubscribe, its signal, close) is given back and
 * redelivered, as with `auto`. At-least-once transports only: UnsupportedError on the others.
 */
export interface ManualAckOptions extends Omit<SubscribeOptions<AckableMessage>, 'ack'> {
  ack: 'manual';
}

export interface DeadLetterOptions {
  /** The topic failed messages are published to; a plain subscription to it receives them. */
  topic: string;
  /**
   * Deliveries a message gets before it is dead-lettered: once its `maxDeliveries`-th delivery
   * fails (its handler threw, or it was nacked), it is published to `topic` and acknowledged here.
   * Deliveries are counted by the backend (see each adapter's README): a delivery given back
   * unconsumed at unsubscribe may count too.
   */
  maxDeliveries: number;
}

export interface SurveyOptions {
  /** Milliseconds after which the survey ends and later answers are dropped. */
  deadline: number;
  /** End as soon as this many answers have arrived. */
  maxResponses?: number;
  signal?: AbortSignal;
  headers?: Headers;
}

export type ReplyHandler = (request: Message) => Reply | Promise<Reply>;

/** Something that serves or listens until it is stopped. */
export interface Subscription {
  readonly subject: string;
  /**
   * Stops delivery and ends the iteration. Idempotent. Messages received but not yet consumed are
   * given back: an at-least-once transport redelivers them, an at-most-once one drops them.
   */
  unsubscribe(): Promise<void>;
}

/** A subscription to a topic or pattern, read with `for await` (unless a handler was given). */
export interface MessageStream<M extends Message = Message> extends Subscription, AsyncIterable<M> {
  /** Messages dropped because the consumer fell more than `maxPending` behind. */
  readonly dropped: number;
}

/** Answers to one survey, as they arrive; iteration ends at the deadline. */
export interface SurveyResponses extends AsyncIterable<Message> {
  /** Collects every answer that arrives before the deadline (or `maxResponses`). */
  toArray(): Promise<Message[]>;
}

/** A member of a bus group: it receives what every other member sends, never its own messages. */
export interface BusMember extends AsyncIterable<Message> {
  readonly group: string;
  /** Messages dropped because this member fell more than 10,000 messages behind. */
  readonly dropped: number;
  send(data: Uint8Array, options?: PublishOptions): Promise<void>;
  /** Stops receiving and sending. Idempotent. */
  leave(): Promise<void>;
}

export interface Transport {
  /** Which adapter this is, e.g. `nats`. */
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly closed: boolean;

  /**
   * Sends `data` to one replier of `service` and resolves to its reply. Rejects with TimeoutError
   * after `timeout`, NoRespondersError when the backend knows nobody serves it, RemoteError when the
   * replier's handler threw, AbortedError on `signal`, ClosedError when the transport closes first.
   */
  request(service: string, data: Uint8Array, options?: RequestOptions): Promise<Message>;
  /**
   * Serves `service` until unsubscribed. Several repliers of one service share the load: each
   * request reaches exactly one. A handler that throws sends an error reply carrying its message.
   * Resolves once requests sent from now on will reach this replier.
   */
  reply(service: string, handler: ReplyHandler): Promise<Subscription>;

  /** Resolves once the backend has taken the message (for at-least-once: once it is safe). */
  publish(topic: string, data: Uint8Array, options?: PublishOptions): Promise<void>;
  /**
   * Resolves once messages published from now on will be delivered to the subscription. A
   * subscription made later receives only later messages, unless it resumes a `durable` name.
   */
  subscribe(pattern: string, options: ManualAckOptions): Promise<MessageStream<AckableMessage>>;
  subscribe(pattern: string, options?: SubscribeOptions): Promise<MessageStream>;

  /** Asks every respondent of `topic`; yields their answers until the deadline. */
  survey(topic: string, data: Uint8Array, options: SurveyOptions): SurveyResponses;
  /** Answers surveys on `topic` until unsubscribed. Every respondent gets every survey. */
  respond(topic: string, handler: ReplyHandler): Promise<Subscription>;

  /** Joins a bus group: every member's message reaches every other member, exactly once. */
  join(group: string): Promise<BusMember>;

  /**
   * Connection events (connected, disconnected with the cause, reconnecting, reconnected) and
   * failures no caller waits for, from now until the stream stops or the transport closes. A
   * transport nobody watches prints its first failure once, so none is silent.
   */
  status(options?: StatusOptions): StatusStream;

  /**
   * Installs hooks that see every message this transport sends and takes, and wrap its handlers
   * (tracing and metrics: see @msg/otel). They apply to operations started after the call; a
   * replier or subscription started before keeps running without them. Several calls stack.
   */
  use(hooks: TransportHooks): void;

  /**
   * Idempotent. Ends every subscription, rejects requests in flight with ClosedError, and releases
   * every handle so the process can exit. Every operation after it fails at once with ClosedError.
   */
  close(): Promise<void>;
}
