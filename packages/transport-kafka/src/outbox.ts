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

/**
 * How an outbox whose topics can vanish (requesters' inboxes) gets over it. kafkajs keeps every
 * topic a producer ever sent to in its metadata requests, and once one is deleted every later
 * send of that producer fails (kafkajs issues #1146, #1622): the only cure is a new producer.
 */
export interface Healing {
  /** Disconnects the broken producer and returns a connected new one. */
  replace(broken: Producer): Promise<Producer>;
  /** Which of these topics still exist, asked fresh of the broker. */
  existing(topics: string[]): Promise<Set<string>>;
}

export class Outbox {
  #waiting: Outgoing[] = [];
  #sending: Promise<void> | undefined;
  #closed = false;
  #producer: Producer;

  constructor(
    producer: Producer,
    readonly maxPayload: number,
    readonly healing?: Healing,
  ) {
    this.#producer = producer;
  }

  get producer(): Producer {
    return this.#producer;
  }

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
        await this.#producer.sendBatch({ topicMessages: byTopic(batch), acks: -1 });
        for (const item of batch) item.resolve();
      } catch (error) {
        const failed = this.healing ? await this.#heal(batch) : batch;
        const size = failed.length === 1 ? (failed[0]?.size ?? 0) : 0;
        for (const item of failed) item.reject(toKafkaError(error, `publishing to "${item.topic}"`, this.maxPayload, size));
      }
    }
    this.#sending = undefined;
  }

  /** After a failed send: a new producer, and one more try for the records whose topic exists. */
  async #heal(batch: Outgoing[]): Promise<Outgoing[]> {
    const healing = this.healing as Healing;
    try {
      this.#producer = await healing.replace(this.#producer);
      const existing = await healing.existing([...new Set(batch.map((item) => item.topic))]);
      const live = batch.filter((item) => existing.has(item.topic));
      if (live.length > 0) await this.#producer.sendBatch({ topicMessages: byTopic(live), acks: -1 });
      for (const item of live) item.resolve();
      return batch.filter((item) => !existing.has(item.topic));
    } catch {
      return batch;
    }
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
