// What an adapter implements. The core wraps a Backend into a Transport (see createTransport), so
// that validation, limits, timeouts, cancellation, error replies, buffering and the close rules live
// once here, and an adapter is only the mapping of these few calls onto its backend's wire.
//
// Rules every method keeps:
// - Messages the core passes in are valid: names checked, data within maxPayload, headers strings
//   without the reserved `msg-` prefix (the core's own `msg-error` headers aside). Never throw for
//   them; a failure to send is a rejection (or `call.reject`) with a MsgError, the client's error as
//   its `cause` (toMsgError turns anything else into ConnectionError).
// - Buffers: `data` given to request, publish or send belongs to the caller again once the returned
//   promise settles (or, for a method that returns nothing, once it returns); keep a reference past
//   that only if the caller cannot observe it (a client that copies on write, or bytes not reused).
//   `data` handed to `deliver` or returned by `serve` belongs to the consumer: never reuse or change
//   it afterwards (copy first when the client recycles its receive buffers).
// - Ids: `message.id` is unique per sender. At-least-once backends carry it, so a redelivery keeps
//   it; at-most-once ones need not send it (the core makes one for a message that arrives without).
// - A reply (and a survey answer) is what `serve` returned, sent back to where its request came
//   from: `serve` sets its `id` and `subject` to the request's, so a backend that correlates by id
//   sends the reply's id as is.
// - Headers named ERROR_HEADER/ERROR_CODE_HEADER in a reply travel like any other header: the core
//   makes RemoteError of them at the requester, and drops such an answer from a survey.

import type { RequestCall } from './call.js';
import type { Message } from './message.js';
import type { StatusFeed } from './status.js';
import type { Capabilities } from './transport.js';

/**
 * Settles one delivered message; given by at-least-once backends with each delivery, called once.
 * - `settle()`: handled (ack): never deliver it again.
 * - `settle(error)`: not handled (nack): its handler threw, the consumer nacked it, or the
 *   subscription ended before it was consumed. Deliver it again, to this subscription or another
 *   member of its queue group or durable name. The last case's error is a ClosedError (code
 *   `CLOSED`): the message was given back unconsumed, which is no failed delivery, so a backend that
 *   counts failures itself does not count it.
 * - `settle(error, redeliverAfterMs)`: the same, no sooner than that many milliseconds from now
 *   (the consumer called `nack({ delay })`). Use the broker's delayed redelivery where it has one
 *   (JetStream's nak with a delay); otherwise hold the message for that long and then give it back,
 *   with a timer that `Stop` clears (a message held then is given back at once, or left for the
 *   broker to redeliver). A held message still counts against `maxPending`.
 * Never throws; a settle that cannot reach the broker (connection lost) is dropped, since the
 * broker redelivers what was not acknowledged.
 */
export type Settle = (error?: unknown, redeliverAfterMs?: number) => void;

/**
 * Hands a received message to the core. `settle` is given by at-least-once backends (see Settle),
 * and may be by an at-most-once one that needs to know when the consumer is done with a message
 * (to grant its broker more, say): there an error is no redelivery, and none is counted as one.
 * `deliveries` is how many times this message has been delivered, this one included (1 the first
 * time): backends that declare `capabilities.deadLetter` pass it for every delivery of a
 * subscription with `deadLetter`, from the broker's own counter where it keeps one. Never throws.
 */
export type Deliver = (message: Message, settle?: Settle, deliveries?: number) => void;

/** Turns a request (or survey question) into the reply to send back. Never rejects. */
export type Serve = (request: Message) => Promise<Message>;

/** Stops what was started; idempotent is not required, the core calls it once. */
export type Stop = () => Promise<void>;

export interface BusLink {
  send(message: Message): Promise<void>;
  leave(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  readonly capabilities: Capabilities;
  /**
   * Where the backend reports its client library's connection events and every failure that no
   * call waits for (a failed ack, a consumer loop that died, a bad frame). Emit nothing for what
   * `close` itself ends.
   */
  readonly status: StatusFeed;
  /**
   * Sends `call.message` to one replier and settles the call: `call.resolve(reply)` with the reply
   * as it arrived, or `call.reject(error)`. The core owns the call's end: at its deadline, on its
   * signal or on close it fails the call itself and runs the function given to `call.onCancel`, so
   * register one that forgets the request (PendingReplies.add does). A throw or a rejected promise
   * from this method rejects the call. `call.deadline` is for wires that carry one (so a replier
   * can stop working on a request nobody waits for any more).
   */
  request(call: RequestCall): void | Promise<void>;
  /** Serves a service: each request reaches exactly one of its repliers; send `serve`'s result back. */
  reply(service: string, serve: Serve): Promise<Stop>;
  /**
   * Publishes to every subscription of `message.subject`. Return nothing when the message is
   * handed over by the time this returns (at-most-once clients that buffer), or a promise that
   * resolves once the backend has taken it (for at-least-once: once it is safe).
   */
  publish(message: Message): void | Promise<void>;
  /** Resolves once later publishes will be delivered. `pattern` uses the core wildcard syntax. */
  subscribe(pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop>;
  /**
   * Sends the question to every respondent of its subject, passes each answer to `deliver` until
   * `signal` aborts (the deadline), and resolves once the question is sent.
   */
  survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void>;
  /** Answers surveys: every respondent of a topic gets every question. */
  respond(topic: string, serve: Serve): Promise<Stop>;
  /** Joins a bus group; `deliver` gets every other member's message, never this member's own. */
  join(group: string, deliver: Deliver): Promise<BusLink>;
  /** Releases every connection, socket and timer. Called once, after everything else is stopped. */
  close(): Promise<void>;
}

export interface BackendSubscribeOptions {
  queue?: string;
  durable?: string;
  /** Set with `durable` (only for backends that declare `capabilities.replay`): a new durable name begins at the oldest message kept. */
  fromEarliest?: boolean;
  /** How many messages an at-least-once backend may hand over before they are settled. */
  maxPending: number;
  /**
   * Set when the subscription has a dead-letter topic (only for backends that declare
   * `capabilities.deadLetter`): count deliveries and pass the count to `deliver`. The core does the
   * rest: when a message's `maxDeliveries`-th delivery fails, it publishes the dead letter through
   * `publish` and, once that resolves, settles the message as handled (so a failed publish of the
   * dead letter is a nack, and the message comes again). A backend may also use it to configure its
   * broker (a delivery limit above `maxDeliveries`, as a safety net).
   */
  deadLetter?: { readonly topic: string; readonly maxDeliveries: number };
}
