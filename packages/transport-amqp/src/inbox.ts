// Replies and survey answers come back to one consumer of RabbitMQ's direct reply-to: no reply
// queue to declare or delete. Direct reply-to requires that requests and survey questions are
// published on the channel that consumes it, so they go out from here, matched by correlation-id.

import { type Deliver, type Message, NoRespondersError, PendingReplies, type RequestCall } from '@msg/core';
import type { Message as Delivery } from 'amqplib';
import type { BrokerConnection, KeptChannel } from './connection.js';
import { DIRECT_REPLY_TO, SURVEY_EXCHANGE, serviceQueue } from './names.js';
import { toBody, toMessage, toProperties } from './wire.js';

export class Inbox {
  readonly #connection: BrokerConnection;
  readonly #pending = new PendingReplies();
  readonly #surveys = new Map<string, (answer: Delivery) => void>();
  #kept: KeptChannel | undefined;

  private constructor(connection: BrokerConnection) {
    this.#connection = connection;
  }

  static async open(connection: BrokerConnection): Promise<Inbox> {
    const inbox = new Inbox(connection);
    inbox.#kept = await connection.keep({
      purpose: 'waiting for replies',
      setup: async (channel) => {
        // A mandatory request that no queue took (nobody serves it) comes back as a return.
        channel.on('return', (returned: Delivery) => inbox.#returned(returned));
        await channel.consume(DIRECT_REPLY_TO, (delivery) => delivery && inbox.#arrived(delivery), { noAck: true });
      },
      // Replies to requests sent on a lost channel can no longer arrive.
      lost: (error) => inbox.#pending.rejectAll(error),
    });
    return inbox;
  }

  async request(call: RequestCall): Promise<void> {
    const request = call.message;
    const service = request.subject;
    const channel = await (this.#kept as KeptChannel).ready();
    if (call.done) return;
    this.#pending.add(request.id, call);
    try {
      channel.publish('', serviceQueue(service), toBody(request.data), toProperties(request, {
        mandatory: true,
        replyTo: DIRECT_REPLY_TO,
        correlationId: request.id,
        type: service,
      }));
    } catch (error) {
      this.#pending.reject(request.id, this.#connection.translate(error, `requesting "${service}"`));
    }
  }

  /** Sends the question to every respondent; answers go to `deliver` until `signal` aborts. */
  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    const topic = question.subject;
    const channel = await (this.#kept as KeptChannel).ready();
    this.#surveys.set(question.id, (answer) => deliver(toMessage(answer, topic)));
    signal.addEventListener('abort', () => this.#surveys.delete(question.id), { once: true });
    try {
      channel.publish(SURVEY_EXCHANGE, topic, toBody(question.data), toProperties(question, {
        replyTo: DIRECT_REPLY_TO,
        correlationId: question.id,
      }));
    } catch (error) {
      this.#surveys.delete(question.id);
      throw this.#connection.translate(error, `surveying "${topic}"`);
    }
  }

  #arrived(delivery: Delivery): void {
    const id = String(delivery.properties.correlationId ?? '');
    if (this.#pending.resolve(id, toMessage(delivery, ''))) return;
    this.#surveys.get(id)?.(delivery);
  }

  #returned(returned: Delivery): void {
    const id = String(returned.properties.correlationId ?? '');
    const service = String(returned.properties.type ?? returned.fields.routingKey);
    this.#pending.reject(id, new NoRespondersError(service));
  }
}
