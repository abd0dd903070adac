// Request/reply and survey. A service is a queue, `queue://<service>`: its repliers are consumers of
// that queue, and the broker hands each request to one of them. Each transport has one temporary
// reply queue (a receiver with a dynamic source); a request carries its address as reply-to and the
// request's id as correlation id, with a time to live of what is left of its timeout, so that a
// request nobody took in time expires in the queue instead of reaching a replier that starts later.
// Survey questions go to a topic that every respondent subscribes to; answers come back the same way.

import {
  ConnectionError,
  type Deliver,
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  type Message,
  PendingReplies,
  type RequestCall,
  type Serve,
  type Stop,
  isMsgError,
} from '@msg/core';
import type { Message as AmqpMessage, Receiver } from 'rhea';
import { type Broker, detach } from './broker.js';
import { Credit } from './credit.js';
import { type Addresses, decode } from './wire.js';

/** Requests (and survey questions) a replier holds unanswered: the broker gives the rest to other repliers. */
const REPLIER_CREDIT = 100;

export class Requests {
  readonly #broker: Broker;
  readonly #addresses: Addresses;
  readonly #pending = new PendingReplies();
  /** Surveys in flight by question id: their subject and where their answers go. */
  readonly #surveys = new Map<string, { subject: string; deliver: Deliver }>();
  #receiver: Receiver | undefined;
  /** The reply queue's address; a new one after each reconnect (the broker made a new queue). */
  #replyTo = '';

  private constructor(broker: Broker, addresses: Addresses) {
    this.#broker = broker;
    this.#addresses = addresses;
  }

  static async open(broker: Broker, addresses: Addresses): Promise<Requests> {
    const requests = new Requests(broker, addresses);
    const receiver = await broker.receive({ source: { address: '', dynamic: true, expiry_policy: 'link-detach' }, snd_settle_mode: 1, credit_window: 1000 }, (message) => requests.#receive(message), 'opening the reply queue');
    const address = () => (requests.#replyTo = receiver.source?.address ?? '');
    address();
    receiver.on('receiver_open', address);
    requests.#receiver = receiver;
    return requests;
  }

  request(call: RequestCall): void {
    const request = call.message;
    const what = `request to "${request.subject}"`;
    this.#pending.add(request.id, call);
    try {
      const waiting = this.#broker.send(what, {
        to: this.#addresses.queue(request.subject),
        data: request.data,
        headers: request.headers,
        replyTo: this.#replyTo,
        correlationId: request.id,
        ttl: call.deadline - Date.now(),
      });
      waiting?.catch((error: unknown) => this.#pending.reject(request.id, error));
    } catch (error) {
      this.#pending.reject(request.id, error);
    }
  }

  survey(question: Message, deliver: Deliver, signal: AbortSignal): void {
    const what = `survey on "${question.subject}"`;
    const out = { to: this.#addresses.topic(question.subject), data: question.data, headers: question.headers, replyTo: this.#replyTo, correlationId: question.id };
    this.#broker.checkConnected(what);
    this.#surveys.set(question.id, { subject: question.subject, deliver });
    signal.addEventListener('abort', () => this.#surveys.delete(question.id), { once: true });
    try {
      // A question that waits for credit and then fails gets no answers: the survey ends empty at its deadline.
      this.#broker.send(what, out)?.catch(() => this.#surveys.delete(question.id));
    } catch (error) {
      this.#surveys.delete(question.id);
      throw error;
    }
  }

  #receive(message: AmqpMessage): void {
    const id = message.correlation_id;
    if (id === undefined) return;
    const key = String(id);
    if (this.#pending.resolve(key, decode(message, ''))) return;
    const survey = this.#surveys.get(key);
    survey?.deliver(decode(message, survey.subject));
  }

  /** The connection dropped: a reply to a request sent before can no longer come (its reply queue is gone). */
  failAll(): void {
    this.#pending.rejectAll(new ConnectionError(`amqp1: the connection to ${this.#broker.where} was lost while the request was in flight; it may or may not have been served`));
  }

  async stop(): Promise<void> {
    if (this.#receiver) await detach(this.#receiver, false);
  }
}

/**
 * Serves the messages of `source`: each that carries a reply-to goes to `serve`, and its result back
 * to that address with the same correlation id. One without is a plain publish: nobody to answer.
 */
export async function serve(broker: Broker, addresses: Addresses, source: string, handler: Serve, what: string): Promise<Stop> {
  // Credit goes back as requests are answered: a replier that is busy takes no more than its share.
  const credit = new Credit(REPLIER_CREDIT);
  const receiver = await broker.receive(
    { source: { address: source }, snd_settle_mode: 1, credit_window: 0 },
    (message) => {
      const born = credit.epoch;
      const done = () => credit.giveBack(born);
      const replyTo = message.reply_to;
      if (replyTo === undefined) return done();
      const correlationId = message.correlation_id === undefined ? undefined : String(message.correlation_id);
      void handler(decode(message, addresses.subjectOf(message.to, ''))).then((reply) => {
        done();
        const answer = `reply from "${reply.subject}"`;
        try {
          // A reply that waits for credit and then fails: the requester fails on its own connection's loss or timeout.
          broker.send(answer, { to: replyTo, data: reply.data, headers: reply.headers, correlationId })?.catch(() => undefined);
        } catch (error) {
          // Too large with its headers, most likely: tell the requester rather than let it time out.
          if (!isMsgError(error, 'PAYLOAD_TOO_LARGE')) return; // disconnected: the requester fails on its own connection's loss or timeout
          try {
            broker.send(answer, { to: replyTo, data: new Uint8Array(0), headers: { [ERROR_HEADER]: error.message, [ERROR_CODE_HEADER]: error.code }, correlationId })?.catch(() => undefined); // as above
          } catch {
            // the connection is gone: the requester's own timeout or connection loss ends its wait
          }
        }
      });
    },
    what,
    credit,
  );
  return () => detach(receiver, false);
}

export function reply(broker: Broker, addresses: Addresses, service: string, handler: Serve): Promise<Stop> {
  return serve(broker, addresses, addresses.queue(service), handler, `serving "${service}"`);
}

/** A respondent is a plain subscriber of the topic: every one of them gets every question. */
export function respond(broker: Broker, addresses: Addresses, topic: string, handler: Serve): Promise<Stop> {
  return serve(broker, addresses, addresses.topic(topic), handler, `answering surveys on "${topic}"`);
}
