// Request/reply: requests go out with a reply subject under one inbox subscription per connection
// (the inbox and the request's id) and are matched to their replies by that subject; repliers of a service form one queue group, so
// the server hands each request to exactly one of them.

import { ConnectionError, ERROR_CODE_HEADER, ERROR_HEADER, type Message, NoRespondersError, PendingReplies, type RequestCall, type Serve, type Stop } from '@msg/core';
import { type Msg, type NatsConnection, type Subscription, createInbox } from '@nats-io/transport-node';
import { confirmed } from './connection.js';
import { toCoreError } from './errors.js';
import { fromNats, isNoResponders, toNatsHeaders } from './wire.js';

/** The queue group of every replier, so that repliers of one service share its requests. */
export const REPLIER_QUEUE = 'msg';


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

  request(call: RequestCall): void {
    const request = call.message;
    this.#pending.add(request.id, call);
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
  }

  #receive(msg: Msg): void {
    const id = msg.subject.slice(this.#inbox.length + 1);
    if (isNoResponders(msg)) this.#pending.reject(id, (request: Message | undefined) => new NoRespondersError(request?.subject ?? '?'));
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
