// Request/reply and survey on MQTT 5's own request/response: a request carries the transport's one
// response topic and its id as correlation data; repliers of a service share the subscription
// `$share/msg/<service>`, so the broker hands each request to one of them. Survey questions go to
// every respondent's plain subscription, and all their answers come back on the same response topic.

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
  nextId,
} from '@msg/core';
import type { IPublishPacket } from 'mqtt';
import type { Broker } from './broker.js';
import { fromMqtt, fromTopic, toTopic, toUserProperties } from './wire.js';

/** The shared-subscription group of every replier, so that repliers of one service share its requests. */
export const REPLIER_GROUP = 'msg';

export class Requests {
  readonly #broker: Broker;
  readonly #pending = new PendingReplies();
  /** Surveys in flight by question id: their subject and where their answers go. */
  readonly #surveys = new Map<string, { subject: string; deliver: Deliver }>();
  readonly replyTopic: string;
  #stop: Stop | undefined;

  private constructor(broker: Broker) {
    this.#broker = broker;
    this.replyTopic = `_reply/${nextId()}`;
  }

  static async open(broker: Broker): Promise<Requests> {
    const requests = new Requests(broker);
    requests.#stop = await broker.routes.add(requests.replyTopic, (packet) => requests.#receive(packet), 'subscribing to the response topic');
    return requests;
  }

  request(call: RequestCall): void {
    const request = call.message;
    const topic = toTopic(request.subject);
    const properties = { responseTopic: this.replyTopic, correlationData: Buffer.from(request.id), userProperties: toUserProperties(request.headers) };
    this.#pending.add(request.id, call);
    try {
      this.#broker.send(topic, request.data, properties, `request to "${request.subject}"`);
    } catch (error) {
      this.#pending.reject(request.id, error);
    }
  }

  survey(question: Message, deliver: Deliver, signal: AbortSignal): void {
    const what = `survey on "${question.subject}"`;
    const properties = { responseTopic: this.replyTopic, correlationData: Buffer.from(question.id), userProperties: toUserProperties(question.headers) };
    this.#broker.checkConnected(what);
    this.#surveys.set(question.id, { subject: question.subject, deliver });
    signal.addEventListener('abort', () => this.#surveys.delete(question.id), { once: true });
    try {
      this.#broker.send(toTopic(question.subject), question.data, properties, what);
    } catch (error) {
      this.#surveys.delete(question.id);
      throw error;
    }
  }

  #receive(packet: IPublishPacket): void {
    const id = packet.properties?.correlationData?.toString();
    if (id === undefined) return;
    if (this.#pending.resolve(id, fromMqtt(packet, fromTopic(packet.topic)))) return;
    const survey = this.#surveys.get(id);
    survey?.deliver(fromMqtt(packet, survey.subject));
  }

  /** The connection dropped: a reply to a request sent before can no longer be relied on. */
  failAll(): void {
    this.#pending.rejectAll(new ConnectionError(`mqtt: the connection to ${this.#broker.where} was lost while the request was in flight; it may or may not have been served`));
  }

  async stop(): Promise<void> {
    await this.#stop?.();
  }
}

/**
 * Serves requests (a shared `filter`) or survey questions (a plain one): each message that carries a
 * response topic goes to `serve`, and its result back to that topic with the same correlation data.
 * A message without a response topic is a plain publish on the same topic: nobody to answer.
 */
export function serve(broker: Broker, filter: string, serve: Serve, what: string): Promise<Stop> {
  return broker.routes.add(
    filter,
    (packet) => {
      const responseTopic = packet.properties?.responseTopic;
      if (responseTopic === undefined) return;
      const correlationData = packet.properties?.correlationData;
      void serve(fromMqtt(packet, fromTopic(packet.topic))).then((reply) => {
        const answer = `reply from "${reply.subject}"`;
        try {
          broker.send(responseTopic, reply.data, { correlationData, userProperties: toUserProperties(reply.headers) }, answer);
        } catch (error) {
          // Too large with its properties, most likely: tell the requester rather than let it time out.
          if (!isMsgError(error, 'PAYLOAD_TOO_LARGE')) return; // disconnected: the requester fails on its own connection's loss or timeout
          const headers = { [ERROR_HEADER]: error.message, [ERROR_CODE_HEADER]: error.code };
          try {
            broker.send(responseTopic, new Uint8Array(0), { correlationData, userProperties: headers }, answer);
          } catch {
            // the connection is gone: the requester's own timeout or connection loss ends its wait
          }
        }
      });
    },
    what,
  );
}

export function reply(broker: Broker, service: string, handler: Serve): Promise<Stop> {
  return serve(broker, `$share/${REPLIER_GROUP}/${toTopic(service)}`, handler, `serving "${service}"`);
}

/** A respondent is a plain subscriber of the topic: every one of them gets every question. */
export function respond(broker: Broker, topic: string, handler: Serve): Promise<Stop> {
  return serve(broker, toTopic(topic), handler, `answering surveys on "${topic}"`);
}
