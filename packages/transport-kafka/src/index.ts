// The Kafka transport: all four patterns on topics of a real Apache Kafka cluster (kafkajs), at
// least once: every message whose publish resolved is kept by the broker until each consumer group
// reading it has committed past it.

import {
  type Backend,
  type BackendSubscribeOptions,
  type BusLink,
  type Capabilities,
  DEFAULT_MAX_PENDING,
  type Deliver,
  type Message,
  type RequestCall,
  type Serve,
  type StatusFeed,
  type Stop,
  type Transport,
  type TransportFactory,
  createTransport,
  registerTransport,
} from '@msg/core';
import { join } from './bus.js';
import { Connection, type KafkaConnectionOptions, MAX_PAYLOAD } from './connection.js';
import { Inbox } from './inbox.js';
import { publish, subscribe } from './pubsub.js';
import { reply, request } from './reqrep.js';
import { respond, survey } from './survey.js';

export type { KafkaConnectionOptions as KafkaOptions } from './connection.js';
export { MAX_PAYLOAD, RECORD_ROOM } from './connection.js';

export const kafkaCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  // Offsets are committed after the consumer is done; a consumer that fails reads again from there.
  delivery: 'at-least-once',
  // One publisher's records share a partition (keyed by publisher), and a partition is read in order.
  ordering: 'per-publisher',
  durable: true,
  replay: true,
  // Topics this transport creates carry max.message.bytes = MAX_PAYLOAD + RECORD_ROOM.
  maxPayload: MAX_PAYLOAD,
  // kafkajs subscribes by regular expression only to topics that exist when it subscribes.
  wildcards: false,
  headers: true,
  queueGroups: true,
  // Counted by the consumer (Kafka keeps no delivery count); the dead letters go to a topic of their own.
  deadLetter: true,
  // Every hop is a produce and a fetch (answers come back through the surveyor's inbox topic), and a
  // new consumer waits for the group coordinator: slower than a broker that routes in memory.
  timing: { surveyDeadlineMs: 2000, settleMs: 500 },
};

/**
 * The same on topics with more than one replica (`replicationFactor` > 1): a topic created a moment
 * ago (a requester's inbox, a new service) is ready only once every replica's broker knows it,
 * about a second on three brokers, so things take longer to settle, and a first survey waits for
 * its inbox as long: seconds under load.
 */
export const kafkaReplicatedCapabilities: Capabilities = { ...kafkaCapabilities, timing: { surveyDeadlineMs: 5000, settleMs: 1000 } };

class KafkaBackend implements Backend {
  readonly name = 'kafka';
  readonly capabilities: Capabilities;
  readonly status: StatusFeed;
  readonly #connection: Connection;
  #inbox: Promise<Inbox> | undefined;

  constructor(connection: Connection, replicated: boolean) {
    this.capabilities = replicated ? kafkaReplicatedCapabilities : kafkaCapabilities;
    this.#connection = connection;
    this.status = connection.status;
  }

  /** The reply topic, opened at the first request or survey: a pure subscriber never needs one. */
  #openInbox(): Promise<Inbox> {
    if (!this.#inbox) {
      this.#inbox = Inbox.open(this.#connection);
      this.#inbox.catch(() => (this.#inbox = undefined));
    }
    return this.#inbox;
  }

  async request(call: RequestCall): Promise<void> {
    return request(this.#connection, await this.#openInbox(), call);
  }

  reply(service: string, serve: Serve): Promise<Stop> {
    return reply(this.#connection, service, serve);
  }

  publish(message: Message): Promise<void> {
    return publish(this.#connection, message);
  }

  subscribe(pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
    return subscribe(this.#connection, pattern, deliver, options);
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    return survey(this.#connection, await this.#openInbox(), question, deliver, signal);
  }

  respond(topic: string, serve: Serve): Promise<Stop> {
    return respond(this.#connection, topic, serve);
  }

  join(group: string, deliver: Deliver): Promise<BusLink> {
    return join(this.#connection, group, deliver, DEFAULT_MAX_PENDING);
  }

  async close(): Promise<void> {
    // An inbox that never opened has nothing to close (its failure went to the request that opened it).
    const inbox = await this.#inbox?.catch(() => undefined);
    await inbox?.close();
    await this.#connection.close();
  }
}

/** A transport on the Kafka cluster at `options.brokers` (default 127.0.0.1:9092). */
export async function createKafkaTransport(options: KafkaConnectionOptions = {}): Promise<Transport> {
  return createTransport(new KafkaBackend(await Connection.open(options), (options.replicationFactor ?? 1) > 1));
}

/** `kafka://host:port` (default port 9092); more brokers through `options.brokers`. */
export const kafkaTransport: TransportFactory<KafkaConnectionOptions> = {
  schemes: ['kafka'],
  connect: (url, options) => createKafkaTransport({ brokers: [`${url.hostname || '127.0.0.1'}:${url.port || 9092}`], ...options }),
};

registerTransport(kafkaTransport);
