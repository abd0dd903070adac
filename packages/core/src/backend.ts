// What an adapter implements. The core wraps a Backend into a Transport (see createTransport), so
// that validation, limits, timeouts, cancellation, error replies, buffering and the close rules live
// once here, and an adapter is only the mapping of these few calls onto its backend's wire.

import type { Message } from './message.js';
import type { Capabilities } from './transport.js';

/**
 * Hands a received message to the core. `settle` (given by at-least-once backends) is called once
 * the consumer is done with it: with no argument when handled (ack), with the error when its
 * handler threw or it was never consumed (nack, so redeliver). Never throws.
 */
export type Deliver = (message: Message, settle?: (error?: unknown) => void) => void;

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
   * Sends the request to one replier and resolves to the reply message as it arrived (the core
   * turns error replies into RemoteError). When `signal` aborts, reject with `signal.reason` and
   * forget the request: a reply that arrives later is dropped. `deadline` (epoch milliseconds) is
   * when the core's timeout will abort `signal`, for backends whose wire carries a deadline.
   */
  request(request: Message, signal: AbortSignal, deadline: number): Promise<Message>;
  /** Serves a service: each request reaches exactly one of its repliers; send `serve`'s result back. */
  reply(service: string, serve: Serve): Promise<Stop>;
  publish(message: Message): Promise<void>;
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
  /** How many messages an at-least-once backend may hand over before they are settled. */
  maxPending: number;
}
