// At-most-once publish/subscribe on core NATS. Subjects and wildcards are the core's syntax as is;
// a queue group is the server's own. The client hands each message to the core's bounded queue
// straight from the socket, so a slow consumer loses the newest messages there, counted in `dropped`.

import { type BackendSubscribeOptions, ConnectionError, type Deliver, type Message, type StatusFeed, type Stop, toMsgError } from '@msg/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { confirmed } from './connection.js';
import { toCoreError } from './errors.js';
import { fromNats, toNatsHeaders } from './wire.js';

export function publish(nc: NatsConnection, message: Message, maxPayload: number): void {
  const headers = toNatsHeaders(message);
  try {
    nc.publish(message.subject, message.data, { headers });
  } catch (error) {
    throw toCoreError(error, { what: `publish to "${message.subject}"`, subject: message.subject, size: message.data.length, headers, maxPayload });
  }
}

/** What waits for the next macrotask at most; a batch this full goes out at once. */
const BATCH_BYTES = 64 * 1024;

/**
 * Core NATS publishes, a tick's worth at a time. nats.js writes what one microtask turn queued, so
 * a caller that awaits each publish (a microtask between publishes) had every message written
 * alone. Messages without headers, which always fit (the core checked their size), are copied into
 * a batch that goes to the client on the next macrotask or once 64 KiB wait; the copy lets the
 * caller reuse its buffer as soon as the publish resolved. A message with headers (which the server
 * may refuse for their size) or a large one goes at once, after what waits.
 */
export class Publisher {
  readonly #nc: NatsConnection;
  readonly #maxPayload: number;
  #buffer = new Uint8Array(BATCH_BYTES);
  #used = 0;
  #subjects: string[] = [];
  #ends: number[] = [];
  #scheduled = false;
  readonly #status: StatusFeed;

  constructor(nc: NatsConnection, maxPayload: number, status: StatusFeed) {
    this.#nc = nc;
    this.#maxPayload = maxPayload;
    this.#status = status;
  }

  publish(message: Message): void {
    const size = message.data.length;
    let plain = size <= BATCH_BYTES;
    for (const _key in message.headers) plain = false;
    if (!plain) {
      this.flush();
      return publish(this.#nc, message, this.#maxPayload);
    }
    if (this.#used + size > BATCH_BYTES) this.flush();
    this.#buffer.set(message.data, this.#used);
    this.#used += size;
    this.#subjects.push(message.subject);
    this.#ends.push(this.#used);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Hands what waits to the client, in order. */
  readonly flush = (): void => {
    this.#scheduled = false;
    const subjects = this.#subjects;
    if (subjects.length === 0) return;
    const buffer = this.#buffer;
    const ends = this.#ends;
    this.#buffer = new Uint8Array(BATCH_BYTES);
    this.#used = 0;
    this.#subjects = [];
    this.#ends = [];
    let start = 0;
    let lost = 0;
    let failure: unknown;
    for (let i = 0; i < subjects.length; i++) {
      try {
        this.#nc.publish(subjects[i] as string, buffer.subarray(start, ends[i]));
      } catch (error) {
        // The connection closed under a batch already resolved to its callers: at most once, so
        // lost; reported once for the batch rather than for each message.
        lost++;
        failure = error;
      }
      start = ends[i] as number;
    }
    if (lost > 0) {
      const why = toMsgError(failure, 'nats');
      this.#status.error('connection', new ConnectionError(`nats: ${lost} messages published just before the connection closed were lost: ${why.message}`, { cause: failure }));
    }
  };
}

export async function subscribe(nc: NatsConnection, pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
  const subscription = nc.subscribe(pattern, {
    queue: options.queue,
    callback: (error, msg) => {
      if (error === null) deliver(fromNats(msg, msg.subject));
    },
  });
  return confirmed(nc, subscription, `subscribing to "${pattern}"`);
}
