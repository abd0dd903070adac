// A consumer group reading one topic, at least once: a record's offset is committed only after the
// core settles it without error, and a record settled with an error is read again from there.
// A group without committed offsets starts at the end of the log as it was when `consume` began, so
// that what is published after `consume` resolves is delivered and what came before is not.

import { ConnectionError } from '@msg/core';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { type Connection, MAX_PAYLOAD } from './connection.js';
import { toKafkaError } from './errors.js';

/** Hands a record on; `settle` with no argument once it is done, with an error to read it again. */
export type Take = (record: KafkaMessage, partition: number, settle: (error?: unknown) => void) => void;

export interface ConsumeOptions {
  topic: string;
  groupId: string;
  take: Take;
  /** Records handed on and not yet settled, at most. */
  maxPending: number;
  /** Called when the consumer gives up on the broker for now (kafkajs may restart it later). */
  onCrash?: (error: unknown) => void;
  /** The group exists only for this consumer (not a queue group or durable name). */
  ephemeral: boolean;
}

/** How long a new member may take to get its share of the topic before `consume` fails. */
const JOIN_TIMEOUT_MS = 30_000;

/** Stops the consumer: leaves the group and disconnects. */
export type StopConsuming = () => Promise<void>;

export async function consume(connection: Connection, options: ConsumeOptions): Promise<StopConsuming> {
  const { topic, groupId } = options;
  let ends: Map<number, string>;
  try {
    ends = await endOffsets(connection.admin, topic);
  } catch (error) {
    throw toKafkaError(error, `reading the end offsets of "${topic}"`, MAX_PAYLOAD);
  }
  const consumer = connection.consumer(groupId);
  const flow = new Flow(options.maxPending);
  const joined = placedOnJoin(consumer, connection.admin, options, ends);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => readBatch(payload, options.take, flow, consumer),
    });
    await joined.done;
  } catch (error) {
    joined.cancel();
    flow.stop();
    await consumer.disconnect().catch(() => undefined);
    throw toKafkaError(error, `joining group "${groupId}" on "${topic}"`, MAX_PAYLOAD);
  }
  return () => {
    // Settles arrive right after this resolves (the core gives back what it still holds), and
    // the offsets they allow are committed before the group is left: so leave on the next turn.
    flow.stopTaking();
    const leaving = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      flow.stop();
      await consumer.disconnect();
      // A group named for this one consumer has no use after it: drop its offsets from the broker.
      if (options.ephemeral) await connection.admin.deleteGroups([groupId]).catch(() => undefined);
    });
    connection.leaving(leaving);
    return Promise.resolve();
  };
}

/** Each partition's end offset now: where a group without offsets starts. */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, string>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p.offset]));
    } catch (error) {
      // A topic created a moment ago may not have its leader in every client's metadata yet.
      if (attempt >= 5 || !(error as { retriable?: boolean }).retriable) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/**
 * Resolves once the consumer has its first assignment and each assigned partition where the group
 * has no committed offset is placed at `ends` (the end when `consume` began): what is published
 * from then on is delivered, nothing before. Offsets are read only after joining, because a member
 * that left just before commits on its way out, and the join waits for it to be gone.
 */
function placedOnJoin(consumer: Consumer, admin: Admin, options: ConsumeOptions, ends: Map<number, string>) {
  const { topic, groupId } = options;
  let cancel!: () => void;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ConnectionError(`kafka: no partition assignment within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
    const offJoin = consumer.on(consumer.events.GROUP_JOIN, (event) => {
      clearTimeout(timer);
      offJoin();
      // Emitted before the first fetch: nothing is read until the partitions are placed.
      consumer.pause([{ topic }]);
      const assigned = event.payload.memberAssignment[topic] ?? [];
      void (async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const started = new Set(committed?.partitions.filter((p) => p.offset !== '-1').map((p) => p.partition));
        const place = assigned.filter((p) => !started.has(p)).map((partition) => ({ topic, partition, offset: ends.get(partition) ?? '0' }));
        for (const entry of place) consumer.seek(entry);
        // Committed too, so that a member that takes a partition over later starts there as well.
        if (place.length > 0) await consumer.commitOffsets(place);
        consumer.resume([{ topic }]);
      })().then(resolve, reject);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      clearTimeout(timer);
      options.onCrash?.(event.payload.error);
      reject(event.payload.error);
    });
    cancel = () => {
      clearTimeout(timer);
      offJoin();
    };
  });
  done.catch(() => undefined);
  return { done, cancel };
}

/** Counts records handed on and not settled; lets the reader wait for room or for settles. */
class Flow {
  #pending = 0;
  #stopped = false;
  #taking = true;
  #wake: (() => void) | undefined;

  constructor(readonly limit: number) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  /** No more records are handed on; those handed on may still be settled. */
  get taking(): boolean {
    return this.#taking;
  }

  stopTaking(): void {
    this.#taking = false;
  }

  get full(): boolean {
    return this.#pending >= this.limit;
  }

  add(): void {
    this.#pending++;
  }

  settled(): void {
    this.#pending--;
    this.#notify();
  }

  stop(): void {
    this.#stopped = true;
    this.#notify();
  }

  /** Resolves at the next settle or stop, or after `ms`. */
  change(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

const HEARTBEAT_WHILE_WAITING_MS = 1000;

async function readBatch(payload: EachBatchPayload, take: Take, flow: Flow, consumer: Consumer): Promise<void> {
  const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
  const { topic, partition } = batch;
  // Per record of this batch handed on: undefined while in the consumer's hands, then true (done)
  // or false (to read again).
  const outcome: (boolean | undefined)[] = [];
  let unsettled = 0;
  let failed = false;
  let lost = false;

  /** Waits for the next settle, heartbeating so that a slow consumer keeps its place in the group. */
  const waitForChange = async () => {
    await flow.change(HEARTBEAT_WHILE_WAITING_MS);
    if (flow.stopped || lost) return;
    try {
      await heartbeat();
    } catch {
      // The group is rebalancing: this batch may now belong to another member.
      lost = true;
    }
  };

  for (const [i, record] of batch.messages.entries()) {
    while (flow.full && !flow.stopped && !lost) await waitForChange();
    if (flow.stopped || !flow.taking || lost || failed || !isRunning() || isStale()) break;
    outcome[i] = undefined;
    unsettled++;
    flow.add();
    take(record, partition, (error) => {
      if (outcome[i] !== undefined) return;
      outcome[i] = error === undefined;
      failed ||= error !== undefined;
      unsettled--;
      flow.settled();
    });
  }
  // Until every record handed on is settled, this partition's offset cannot move past it.
  while (unsettled > 0 && !flow.stopped && !lost) await waitForChange();

  let done = 0;
  while (outcome[done] === true) done++;
  const first = batch.messages[done];
  if (done > 0) {
    const last = batch.messages[done - 1] as KafkaMessage;
    resolveOffset(last.offset);
    await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last.offset) + 1n).toString() }] }] }).catch(
      () => undefined, // a lost commit means a redelivery, which at-least-once allows
    );
  }
  // Read again from the first record not done (failed, or unsettled when stopping).
  if (first && outcome.length > done && flow.taking && isRunning()) consumer.seek({ topic, partition, offset: first.offset });
}
