// The baseline for the Kafka adapter: kafkajs directly, pubsub only. The subscriber creates a topic of
// its own (one partition) and reads it in a consumer group of its own from the beginning. kafkajs
// batches nothing by itself, so the publisher gathers what is published in one turn of the event loop
// into one produce request (one in flight; acks from every in-sync replica, as the adapter asks), as
// a Kafka client should be used. The subscriber deletes the topic when it closes.
import { type Consumer, Kafka, type Producer, logLevel } from 'kafkajs';
import type { Driver, Link, LinkOptions } from './driver.js';
import { deleteKafkaTopics } from './cleanup.js';

const kafka = () => new Kafka({ clientId: 'msg-bench', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
const asBuffer = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
const topicOf = (topic: string) => topic.replace(/[^a-zA-Z0-9._-]/g, '_');

class KafkaLink implements Link {
  readonly #kafka = kafka();
  readonly #options: LinkOptions;
  #producer?: Promise<Producer>;
  #consumer?: Consumer;
  #created?: string;
  #batch?: { topic: string; messages: { value: Buffer }[]; sent: Promise<void> };

  constructor(options: LinkOptions) {
    this.#options = options;
  }

  publish(topic: string, data: Uint8Array): Promise<void> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1 });
      await producer.connect();
      return producer;
    })();
    const name = topicOf(topic);
    if (this.#batch?.topic === name) {
      this.#batch.messages.push({ value: asBuffer(data) });
      return this.#batch.sent;
    }
    const messages = [{ value: asBuffer(data) }];
    const producer = this.#producer;
    const sent = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      if (this.#batch?.messages === messages) this.#batch = undefined;
      await (await producer).send({ topic: name, acks: -1, messages });
    });
    this.#batch = { topic: name, messages, sent };
    return sent;
  }

  async subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    const name = topicOf(topic);
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: name, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true, timeout: 10_000 });
      this.#created = name;
    } finally {
      await admin.disconnect();
    }
    const consumer = this.#kafka.consumer({ groupId: `bench-${this.#options.runId}`, maxWaitTimeInMs: 10 });
    this.#consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: name, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) if (message.value) onMessage(message.value);
      },
    });
  }

  async serve(): Promise<void> {
    throw new Error('kafka-raw has no echo baseline');
  }

  async request(): Promise<Uint8Array> {
    throw new Error('kafka-raw has no echo baseline');
  }

  async close(): Promise<void> {
    // Closing after the measured run: a client that cannot disconnect cleanly changes no figure.
    await this.#consumer?.disconnect().catch(() => undefined);
    // A producer that never connected has nothing to disconnect.
    const producer = await this.#producer?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined); // as the consumer's, after the run
    if (this.#created) await deleteKafkaTopics(this.#options.runId);
  }
}

export const rawKafkaDriver: Driver = {
  open: async (_mode, _address, options) => new KafkaLink(options),
};
