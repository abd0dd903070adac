// One transport's clients on the broker: a kafkajs client, one producer shared by every pattern,
// and an admin client that creates topics and places new consumer groups at the end of the log.

import { randomUUID } from 'node:crypto';
import {
  type Admin,
  type Consumer,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { InvalidArgumentError, StatusFeed } from '@msg/core';
import { toKafkaError } from './errors.js';
import { Outbox } from './outbox.js';

export interface KafkaConnectionOptions {
  /** `host:port` of one or more brokers. Default `127.0.0.1:9092`. */
  brokers?: string[];
  clientId?: string;
  ssl?: boolean | TlsOptions;
  sasl?: SASLOptions;
  /** Partitions of each topic this transport creates. Default 3. */
  partitions?: number;
  /** Replication factor of each topic this transport creates. Default 1 (one broker). */
  replicationFactor?: number;
  /**
   * `min.insync.replicas` of each topic this transport creates: with acks=all (which every publish
   * uses) a write is acknowledged only once this many replicas have it, and refused when fewer are
   * in sync. Default: the broker's setting. On a cluster of three, 2 with `replicationFactor: 3`.
   */
  minInsyncReplicas?: number;
  /** How long to wait for the broker to answer one request, in ms. Default 10,000. */
  requestTimeout?: number;
  /** Where kafkajs's own log goes. Default: errors to stderr, the rest dropped. */
  log?: (entry: { level: 'error' | 'warn' | 'info' | 'debug'; message: string; detail: LogEntry['log'] }) => void;
}

/** kafkajs's type for a broker's answer that it does not know a topic (or partition). */
const UNKNOWN_TOPIC = 'UNKNOWN_TOPIC_OR_PARTITION';

/** Whether `error`, or an error it wraps (kafkajs's retries, our own ConnectionError), is UNKNOWN_TOPIC. */
export function isUnknownTopic(error: unknown): boolean {
  for (let e = error as { type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.type === UNKNOWN_TOPIC) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

/**
 * Runs `attempt` again while it fails because the broker asked does not know a topic yet: on a
 * cluster, brokers learn of a topic created a moment ago one after another. Ten seconds at most.
 */
export async function whileUnknown<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isUnknownTopic(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Largest payload; the broker's `message.max.bytes` must be this plus RECORD_ROOM. */
export const MAX_PAYLOAD = 1024 * 1024;
/** Room for key, headers and record-batch framing around a payload of MAX_PAYLOAD. */
export const RECORD_ROOM = 64 * 1024;

// Consumers notice a rebalance on their next heartbeat or fetch: short intervals make a new
// member (a second replier, a queue group member) take part within a second instead of several.
const HEARTBEAT_MS = 500;
const SESSION_TIMEOUT_MS = 10_000;
const FETCH_WAIT_MS = 250;

const levels = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug' } as const;

/**
 * Logged by kafkajs as errors but routine here, each retried or handled: a group rebalancing, a
 * topic another transport created first, a leader not yet known for a topic made a moment ago, a
 * reply topic whose requester left (the answer producer is replaced; a caller sees any failure), a
 * consumer crash (transport.status() reports it).
 */
const routine = /^Crash: |rebalanc|not the coordinator|Restarting the consumer|Topic creation errors|not the leader for that topic-partition|does not host this topic-partition/i;

function defaultLog(entry: { level: string; message: string; detail: LogEntry['log'] }): void {
  if (entry.level !== 'error') return;
  const error = (entry.detail as { error?: unknown }).error;
  const text = `${entry.message}${error ? ` (${String(error)})` : ''}`;
  if (!routine.test(text)) console.error(`@msg/transport-kafka: ${text}`);
}

export class Connection {
  /** Unique per transport: names its inbox and its groups. */
  readonly id = randomUUID();
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly admin: Admin;
  readonly outbox: Outbox;
  /** Replies and survey answers: they go to requesters' inboxes, which are deleted as they leave. */
  readonly answers: Outbox;
  readonly partitions: number;
  /** Each consumer's crashes, restarts and failed commits. */
  readonly status = new StatusFeed('kafka');
  readonly #replicationFactor: number;
  readonly #topicConfig: { name: string; value: string }[];
  #topics = new Map<string, Promise<void>>();
  #listing: Promise<string[]> | undefined;
  #leaving = new Set<Promise<void>>();

  private constructor(options: KafkaConnectionOptions) {
    const log = options.log ?? defaultLog;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'msg',
      brokers: options.brokers ?? ['127.0.0.1:9092'],
      ssl: options.ssl,
      sasl: options.sasl,
      requestTimeout: options.requestTimeout ?? 10_000,
      connectionTimeout: 3000,
      // Bounded: an operation against a dead broker fails within seconds instead of minutes.
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
      logLevel: options.log ? logLevel.DEBUG : logLevel.ERROR,
      logCreator: () => (entry) => log({ level: levels[entry.level as keyof typeof levels] ?? 'debug', message: entry.log.message, detail: entry.log }),
    });
    // Topics are created by this transport with its settings, never implicitly with the broker's.
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    this.admin = this.kafka.admin();
    this.outbox = new Outbox(this.producer, MAX_PAYLOAD);
    this.answers = new Outbox(this.#answerProducer(), MAX_PAYLOAD, {
      replace: async (broken) => {
        // A broken producer is dropped whatever it says; its replacement is what matters.
        await broken.disconnect().catch(() => undefined);
        const fresh = this.#answerProducer();
        await fresh.connect();
        return fresh;
      },
      existing: async (topics) => {
        const all = new Set(await this.admin.listTopics());
        return new Set(topics.filter((topic) => all.has(topic)));
      },
    });
    this.partitions = options.partitions ?? 3;
    this.#replicationFactor = options.replicationFactor ?? 1;
    this.#topicConfig = [{ name: 'max.message.bytes', value: String(MAX_PAYLOAD + RECORD_ROOM) }];
    if (options.minInsyncReplicas !== undefined) this.#topicConfig.push({ name: 'min.insync.replicas', value: String(options.minInsyncReplicas) });
  }

  #answerProducer(): Producer {
    // Few retries: an inbox that is gone stays gone, and the answers behind it should not wait.
    return this.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
    });
  }

  static async open(options: KafkaConnectionOptions): Promise<Connection> {
    for (const name of ['partitions', 'replicationFactor', 'minInsyncReplicas'] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new InvalidArgumentError(`kafka: ${name} must be a whole number of at least 1, got ${value}`);
    }
    if (options.minInsyncReplicas !== undefined && options.minInsyncReplicas > (options.replicationFactor ?? 1)) {
      throw new InvalidArgumentError(
        `kafka: minInsyncReplicas (${options.minInsyncReplicas}) exceeds replicationFactor (${options.replicationFactor ?? 1}): no publish could be acknowledged; give replicationFactor at least as many`,
      );
    }
    const connection = new Connection(options);
    try {
      await Promise.all([connection.producer.connect(), connection.answers.producer.connect(), connection.admin.connect()]);
    } catch (error) {
      await connection.close();
      throw toKafkaError(error, `connecting to ${(options.brokers ?? ['127.0.0.1:9092']).join(',')}`, MAX_PAYLOAD);
    }
    return connection;
  }

  consumer(groupId: string): Consumer {
    return this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_MS,
      maxWaitTimeInMs: FETCH_WAIT_MS,
      // One record may be MAX_PAYLOAD plus its headers; fetch limits must carry it whole.
      maxBytesPerPartition: 2 * (MAX_PAYLOAD + RECORD_ROOM),
      maxBytes: 16 * (MAX_PAYLOAD + RECORD_ROOM),
    });
  }

  /** Creates `topic` unless it exists; concurrent callers share one attempt. */
  ensureTopic(topic: string, partitions = this.partitions): Promise<void> {
    let ready = this.#topics.get(topic);
    if (!ready) {
      ready = this.admin
        .createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: partitions,
              replicationFactor: this.#replicationFactor,
              configEntries: this.#topicConfig,
            },
          ],
        })
        .then(
          () => undefined,
          // On a cluster the broker asked for leaders may not know the new topic yet; kafkajs gives up
          // on that answer, though the topic was created. Ask again until every partition has a leader.
          (error: { type?: string }) => (error.type === UNKNOWN_TOPIC ? this.#leadersOf(topic) : Promise.reject(error)),
        );
      this.#topics.set(topic, ready);
      ready.catch(() => this.#topics.delete(topic));
    }
    return ready;
  }

  /** Resolves once every partition of `topic` has a leader, asking for ten seconds at most. */
  #leadersOf(topic: string): Promise<void> {
    return whileUnknown(async () => {
      const [found] = (await this.admin.fetchTopicMetadata({ topics: [topic] })).topics;
      if (!found?.partitions.length || found.partitions.some((partition) => partition.leader < 0)) throw Object.assign(new Error(`no leader for "${topic}" yet`), { type: UNKNOWN_TOPIC });
    });
  }

  /** Whether `topic` exists, asking the broker only about topics not seen yet. */
  async hasTopic(topic: string): Promise<boolean> {
    if (this.#topics.has(topic)) return true;
    // Many requests to a service not seen yet share one listing.
    this.#listing ??= this.admin.listTopics().finally(() => (this.#listing = undefined));
    const found = (await this.#listing).includes(topic);
    if (found) this.#topics.set(topic, Promise.resolve());
    return found;
  }

  async deleteTopic(topic: string): Promise<void> {
    this.#topics.delete(topic);
    await this.admin.deleteTopics({ topics: [topic], timeout: 5000 });
  }

  /** Tracks a consumer leaving its group, which close waits for. */
  leaving(left: Promise<void>): void {
    // A consumer that fails to leave is dropped by the broker at its session timeout: close need not fail.
    const settled = left.catch(() => undefined);
    this.#leaving.add(settled);
    void settled.then(() => this.#leaving.delete(settled));
  }

  /** Resolves once every consumer stopped so far has left its group. */
  async allLeft(): Promise<void> {
    await Promise.all(this.#leaving);
  }

  async close(): Promise<void> {
    await this.allLeft();
    await Promise.all([this.outbox.close(), this.answers.close()]);
    await Promise.allSettled([this.producer.disconnect(), this.answers.producer.disconnect(), this.admin.disconnect()]);
  }
}
