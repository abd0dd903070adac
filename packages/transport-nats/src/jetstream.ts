// The durable profile: at-least-once publish/subscribe on JetStream. Topics live in one stream per
// transport configuration, under a subject prefix; every subscription is a pull consumer with
// explicit acks, acked when the core settles a message without error and nakked when its handler
// threw, it was nacked (with the nack's delay: the server holds it) or it was never consumed. The
// server counts each message's deliveries, which is what a dead-letter subscription reads.

import { type BackendSubscribeOptions, ConnectionError, type Deliver, InvalidArgumentError, type Message, type StatusFeed, type Stop } from '@msg/core';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type ConsumerNotification,
  type JsMsg,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos, nuid } from '@nats-io/transport-node';
import { toCoreError } from './errors.js';
import { fromNats, toDurableHeaders } from './wire.js';

export interface NatsJetStreamOptions {
  /** The stream that stores this transport's topics; created when missing. Default `MSG`. */
  stream?: string;
  /** Topic `orders.new` is stored as `<prefix>.orders.new`; the stream captures `<prefix>.>`. Default `msg`. */
  subjectPrefix?: string;
  /** How long a delivered message may stay unsettled before the server delivers it again. Default 30,000. */
  ackWaitMs?: number;
  /** How long a stored message is kept at most, even if a durable subscription never returns. Default 24 h. */
  maxAgeMs?: number;
  /** How long a consumer without a reader lives on (after a crash; unsubscribe deletes it at once). Default 5 min. */
  idleConsumerMs?: number;
  /**
   * Copies of the stream (and of its consumers) a cluster keeps, on as many servers; a publish
   * resolves once a majority has it. Default 1 (a single server has no more). Used when the stream
   * is created: an existing stream keeps its own.
   */
  replicas?: number;
}

const HOUR = 3_600_000;
/** Messages asked for per pull: enough to keep a fast consumer busy, never more than it may hold. */
const PULL_BATCH = 1000;
/**
 * How long one pull waits on the server. The client re-checks a consumer after a reconnect with a
 * backoff of up to this long, and counts missed heartbeats in halves of it: the 30 s default would
 * leave a subscription idle that long after a server restart.
 */
const PULL_EXPIRES_MS = 5000;

/** Consumer names are one token: the core's dots become underscores. */
function consumerName(name: string): string {
  return name.replaceAll('.', '_');
}

/** A short stable hash, so that one queue group name on two topics gives two consumers. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

export class DurableTopics {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #ackWait: number;
  readonly #idle: number;
  readonly #maxPayload: number;
  readonly #status: StatusFeed;

  private constructor(js: JetStreamClient, jsm: JetStreamManager, options: Required<NatsJetStreamOptions>, maxPayload: number, status: StatusFeed) {
    this.#js = js;
    this.#jsm = jsm;
    this.#stream = options.stream;
    this.#prefix = options.subjectPrefix;
    this.#ackWait = options.ackWaitMs;
    this.#idle = options.idleConsumerMs;
    this.#maxPayload = maxPayload;
    this.#status = status;
  }

  static async open(nc: NatsConnection, options: NatsJetStreamOptions, maxPayload: number, status: StatusFeed): Promise<DurableTopics> {
    const settings: Required<NatsJetStreamOptions> = {
      stream: options.stream ?? 'MSG',
      subjectPrefix: options.subjectPrefix ?? 'msg',
      ackWaitMs: options.ackWaitMs ?? 30_000,
      maxAgeMs: options.maxAgeMs ?? 24 * HOUR,
      idleConsumerMs: options.idleConsumerMs ?? 5 * 60_000,
      replicas: options.replicas ?? 1,
    };
    if (!Number.isInteger(settings.replicas) || settings.replicas < 1 || settings.replicas > 5) {
      throw new InvalidArgumentError(`nats+jetstream: replicas must be a whole number from 1 to 5 (JetStream's limit), got ${settings.replicas}`);
    }
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, settings);
      return new DurableTopics(jetstream(nc), jsm, settings, maxPayload, status);
    } catch (error) {
      throw toCoreError(error, { what: `opening JetStream stream "${settings.stream}"` });
    }
  }

  async publish(message: Message): Promise<void> {
    const subject = `${this.#prefix}.${message.subject}`;
    // The client adds its own headers (Nats-Msg-Id) to these: an error then counts them too.
    const headers = toDurableHeaders(message);
    try {
      // The message id doubles as JetStream's dedup id: a publish retried after a lost PubAck is stored once.
      await this.#js.publish(subject, message.data, { msgID: message.id, headers });
    } catch (error) {
      throw toCoreError(error, { what: `publish to "${message.subject}"`, subject: message.subject, size: message.data.length, headers, maxPayload: this.#maxPayload });
    }
  }

  async subscribe(pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
    const { name, owned } = await this.#consumerFor(pattern, options);
    const skip = this.#prefix.length + 1;
    // The server's count, parsed from the message's reply subject: only when a dead letter needs it.
    const counted = options.deadLetter !== undefined;
    try {
      const consumer = await this.#js.consumers.get(this.#stream, name);
      const messages = await consumer.consume({
        max_messages: Math.min(options.maxPending, PULL_BATCH),
        expires: PULL_EXPIRES_MS,
        callback: (msg: JsMsg) =>
          deliver(
            fromNats(msg, msg.subject.slice(skip)),
            (error, redeliverAfterMs) => (error === undefined ? msg.ack() : msg.nak(redeliverAfterMs)),
            counted ? msg.info.deliveryCount : undefined,
          ),
      });
      const watching = this.#watch(messages.status(), pattern);
      return async () => {
        await messages.close();
        await watching;
        if (owned) await this.#forget(name);
      };
    } catch (error) {
      if (owned) await this.#forget(name);
      throw toCoreError(error, { what: `subscribing to "${pattern}"` });
    }
  }

  /** A consumer's troubles that stop its messages, passed on; the client keeps pulling meanwhile. */
  async #watch(events: AsyncIterable<ConsumerNotification>, pattern: string): Promise<void> {
    for await (const event of events) {
      let why: string | undefined;
      if (event.type === 'consumer_deleted') why = `its consumer was deleted (${event.description})`;
      else if (event.type === 'consumer_not_found') why = `its consumer ${event.name} is not found (${event.count} tries)`;
      else if (event.type === 'stream_not_found') why = `the stream ${event.name} is not found`;
      else if (event.type === 'heartbeats_missed') why = `the server missed ${event.count} heartbeats`;
      if (why !== undefined) this.#status.error(`subscription "${pattern}"`, new ConnectionError(`nats+jetstream: the subscription to "${pattern}" gets no messages: ${why}`));
    }
  }

  /** Deletes a consumer of our own; one that cannot be deleted now goes by itself (inactive_threshold). */
  async #forget(name: string): Promise<void> {
    try {
      await this.#jsm.consumers.delete(this.#stream, name);
    } catch (error) {
      this.#status.error('connection', toCoreError(error, { what: `deleting the JetStream consumer ${name} (the server removes it once idle)` }));
    }
  }

  /**
   * A durable name is the user's consumer, kept after unsubscribe. A queue group shares one consumer
   * per topic pattern, removed by the server once its last member is gone. Any other subscription
   * gets its own consumer, deleted on unsubscribe. All are stored durably, so that each survives a
   * server restart.
   */
  async #consumerFor(pattern: string, options: BackendSubscribeOptions): Promise<{ name: string; owned: boolean }> {
    const shared = options.durable ?? (options.queue === undefined ? undefined : `${options.queue}-${shortHash(pattern)}`);
    const name = consumerName(shared ?? `sub-${nuid.next()}`);
    const kept = options.durable !== undefined;
    try {
      if (shared !== undefined) {
        // Not found is the usual answer here; any other failure shows again in consumers.add below.
        const existing = await this.#jsm.consumers.info(this.#stream, name).catch(() => undefined);
        if (existing) return { name, owned: false };
      }
      await this.#jsm.consumers.add(this.#stream, {
        durable_name: name,
        filter_subject: `${this.#prefix}.${pattern}`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        max_ack_pending: options.maxPending,
        ack_wait: nanos(this.#ackWait),
        ...(kept ? {} : { inactive_threshold: nanos(this.#idle) }),
      });
      return { name, owned: shared === undefined };
    } catch (error) {
      throw toCoreError(error, { what: `creating the JetStream consumer for "${pattern}"` });
    }
  }
}

async function ensureStream(jsm: JetStreamManager, settings: Required<NatsJetStreamOptions>): Promise<void> {
  // Not found means create it; any other failure shows again in streams.add below.
  const found = await jsm.streams.info(settings.stream).catch(() => undefined);
  if (found) return;
  try {
    await jsm.streams.add({
      name: settings.stream,
      subjects: [`${settings.subjectPrefix}.>`],
      // Interest retention: a message stays until every consumer that wants it has acked it.
      retention: RetentionPolicy.Interest,
      storage: StorageType.File,
      max_age: nanos(settings.maxAgeMs),
      num_replicas: settings.replicas,
    });
  } catch (error) {
    // Another transport may have created it at the same moment; only a stream that is still missing
    // is a failure, and then the first error is the one to throw.
    if (!(await jsm.streams.info(settings.stream).catch(() => undefined))) throw error;
  }
}
