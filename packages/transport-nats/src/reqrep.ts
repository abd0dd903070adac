// Request/reply: requests go out with a reply subject under one inbox subscription per connection
// and are matched to their replies by message id; repliers of a service form one queue group, so
// the server hands each request to exactly one of them.

import { ConnectionError, ERROR_CODE_HEADER, ERROR_HEADER, type Message, NoRespondersError, PendingReplies, type Serve, type Stop } from '@msg/core';
import { type Msg, type NatsConnection, type Subscription, createInbox } from '@nats-io/transport-node';
import { confirmed } from './connection.js';
import { toCoreError } from './errors.js';
import { fromNats, isNoResponders, toNatsHeaders } from './wire.js';

/** The queue group of every replier, so that repliers of one service share its requests. */
export const REPLIER_QUEUE = 'msg';

/** The server said nobody serves the subject; `request` turns it into NoRespondersError naming the service. */
const NOBODY = Symbol('no responders');

export class Requests {
  readonly #nc: NatsConnection;
  readonly #inbox: string;
  readonly #pending = new PendingReplies();
  readonly #subscription: Subscription;
  readonly #maxPayload: number;

  constructor(nc: NatsConnection, maxPayload: number) {
    this.#nc = nc;
    this.#inbox = createInbox();
    this.#maxPayload = maxPayload;
    this.#subscription = nc.subscribe(`${this.#inbox}.*`, {
      callback: (error, msg) => {
        if (error === null) this.#receive(msg);
      },
    });
  }

  async request(request: Message, signal: AbortSignal): Promise<Message> {
    const waiting = this.#pending.wait(request.id, signal);
    try {
      this.#nc.publish(request.subject, request.data, { reply: `${this.#inbox}.${request.id}`, headers: toNatsHeaders(request) });
    } catch (error) {
      this.#pending.reject(
        request.id,
        toCoreError(error, {
          what: `request to "${request.subject}"`,
          subject: request.subject,
          size: request.data.length,
          // The same headers as sent, built again on this error path only.
          headers: toNatsHeaders(request),
          maxPayload: this.#maxPayload,
        }),
      );
    }
    let reply: Message;
    try {
      reply = await waiting;
    } catch (error) {
      throw error === NOBODY ? new NoRespondersError(request.subject) : error;
    }
    return { id: reply.id, subject: request.subject, data: reply.data, headers: reply.headers };
  }

  #receive(msg: Msg): void {
    const id = msg.subject.slice(this.#inbox.length + 1);
    if (isNoResponders(msg)) this.#pending.reject(id, NOBODY);
    else this.#pending.resolve(id, fromNats(msg, msg.subject));
  }

  /** The connection dropped: a reply to a request sent before can no longer be relied on. */
  failAll(): void {
    this.#pending.rejectAll(new ConnectionError('nats: the connection to the server was lost while the request was in flight; it may or may not have been served'));
  }

  stop(): void {
    this.#subscription.unsubscribe();
  }
}

export async function serveRequests(nc: NatsConnection, service: string, serve: Serve, queue: string | undefined, maxPayload: number): Promise<Stop> {
  const subscription = nc.subscribe(service, {
    queue,
    callback: (error, msg) => {
      if (error !== null || msg.reply === undefined) return; // a plain publish on the subject: nobody to answer
      void serve(fromNats(msg, service)).then((reply) => {
        const headers = toNatsHeaders(reply);
        try {
          msg.respond(reply.data, { headers });
        } catch (error) {
          // Too large with its headers, most likely: tell the requester rather than let it time out.
          const why = toCoreError(error, { what: `reply from "${service}"`, size: reply.data.length, headers, maxPayload });
          try {
            msg.respond(new Uint8Array(0), { headers: toNatsHeaders({ ...reply, headers: { [ERROR_HEADER]: why.message, [ERROR_CODE_HEADER]: why.code } }) });
          } catch {
            // the connection is closed: the requester's own timeout or close ends its wait
          }
        }
      });
    },
  });
  return confirmed(nc, subscription, `serving "${service}"`);
}
