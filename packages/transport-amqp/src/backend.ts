// The Backend the core wraps: each call mapped onto the pattern that implements it.

import type { Backend, BackendSubscribeOptions, BusLink, Capabilities, Deliver, Message, RequestCall, Serve, StatusFeed, Stop } from '@msg/core';
import { join } from './bus.js';
import type { BrokerConnection } from './connection.js';
import type { Inbox } from './inbox.js';
import { TOPIC_EXCHANGE } from './names.js';
import type { Publisher } from './publisher.js';
import { type QueuePolicy, subscribe } from './pubsub.js';
import { serve } from './reqrep.js';
import { respond } from './survey.js';

/** What a bus member may hold unsettled in the at-least-once profile (the core's default). */
const BUS_PREFETCH = 10_000;

export class AmqpBackend implements Backend {
  readonly name = 'amqp';
  readonly status: StatusFeed;
  readonly capabilities: Capabilities;
  readonly #connection: BrokerConnection;
  readonly #publisher: Publisher;
  readonly #inbox: Inbox;
  readonly #policy: QueuePolicy;

  constructor(capabilities: Capabilities, connection: BrokerConnection, publisher: Publisher, inbox: Inbox, policy: QueuePolicy) {
    this.capabilities = capabilities;
    this.status = connection.settings.status;
    this.#connection = connection;
    this.#publisher = publisher;
    this.#inbox = inbox;
    this.#policy = policy;
  }

  request(call: RequestCall): Promise<void> {
    return this.#inbox.request(call);
  }

  reply(service: string, answer: Serve): Promise<Stop> {
    return serve(this.#connection, service, answer);
  }

  publish(message: Message): Promise<void> {
    return this.#publisher.send(TOPIC_EXCHANGE, message.subject, message);
  }

  subscribe(pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
    return subscribe(this.#connection, this.#publisher, this.#policy, pattern, deliver, options);
  }

  survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    return this.#inbox.survey(question, deliver, signal);
  }

  respond(topic: string, answer: Serve): Promise<Stop> {
    return respond(this.#connection, topic, answer);
  }

  join(group: string, deliver: Deliver): Promise<BusLink> {
    return join(this.#connection, this.#publisher, group, deliver, this.#policy.confirmed ? BUS_PREFETCH : undefined);
  }

  close(): Promise<void> {
    return this.#connection.close();
  }
}
