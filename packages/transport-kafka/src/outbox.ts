// Batches what is sent in one tick into one produce request. kafkajs sends each `send` call as its
// own request and has no linger of its own, so 10,000 publishes in a loop would be 10,000 round
// trips; here they leave as a few batches, one after the other, which also keeps each publisher's
// order (a later batch never overtakes an earlier one).

import type { Message as KafkaRecord, Producer, TopicMessages } from 'kafkajs';
import { ClosedError } from '@msg/core';
import { toKafkaError } from './errors.js';

interface Outgoing {
  topic: string;
  record: KafkaRecord;
  size: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A record batch per partition must fit the broker's `message.max.bytes`: cut batches at this. */
const BATCH_BYTES = 512 * 1024;

export class Outbox {
  #waiting: Outgoing[] = [];
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(
    readonly producer: Producer,
    readonly maxPayload: number,
  ) {}

  /** Resolves once the broker has the record (acks from all in-sync replicas). */
  send(topic: string, record: KafkaRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return new Promise((resolve, reject) => {
      const size = sizeOf(record);
      this.#waiting.push({ topic, record, size, resolve, reject });
      // Linger until the end of this tick: publishes made together leave together.
      this.#sending ??= new Promise<void>((started) => setImmediate(started)).then(() => this.#drain());
    });
  }

  async #drain(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#take();
      try {
        await this.producer.sendBatch({ topicMessages: byTopic(batch), acks: -1 });
        for (const item of batch) item.resolve();
      } catch (error) {
        const size = batch.length === 1 ? (batch[0]?.size ?? 0) : 0;
        for (const item of batch) item.reject(toKafkaError(error, `publishing to "${item.topic}"`, this.maxPayload, size));
      }
    }
    this.#sending = undefined;
  }

  #take(): Outgoing[] {
    let bytes = 0;
    let count = 0;
    for (const item of this.#waiting) {
      if (count > 0 && bytes + item.size > BATCH_BYTES) break;
      bytes += item.size;
      count++;
    }
    return this.#waiting.splice(0, count);
  }

  /** Refuses new records and waits until those already handed over are sent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#sending;
  }
}

/** Bytes the record takes in a batch, near enough to keep batches under the broker's limit. */
function sizeOf(record: KafkaRecord): number {
  let size = 32 + ((record.value as Buffer | null)?.length ?? 0) + ((record.key as string | null)?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers ?? {})) size += name.length + String(value).length + 8;
  return size;
}

function byTopic(batch: Outgoing[]): TopicMessages[] {
  const topics = new Map<string, KafkaRecord[]>();
  for (const item of batch) {
    const records = topics.get(item.topic);
    if (records) records.push(item.record);
    else topics.set(item.topic, [item.record]);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
