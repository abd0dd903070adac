// A consumer group reading one topic, at least once: a record's offset is committed only after the
// core settles it without error, and a record settled with an error is read again from there.
// Records are handed on without waiting for those before them (up to `maxPending` unsettled), so a
// slow one holds back only the commits behind it, not the reading.
// A group without committed offsets starts at the end of the log as it was when `consume` began, so
// that what is published after `consume` resolves is delivered and what came before is not; with
// `fromEarliest`, at the oldest record the log still keeps.
// Kafka keeps no delivery count: with `countFailures` the consumer counts each record's failed
// deliveries itself, in memory, so a count starts again on another member or after a restart.

import { ConnectionError, type StatusFeed, isMsgError } from '@msg/core';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { type Connection, MAX_PAYLOAD, isUnknownTopic, whileUnknown } from './connection.js';
import { toKafkaError } from './errors.js';

/**
 * Hands a record on; `settle` with no argument once it is done, with an error to read it again (no
 * sooner than `redeliverAfterMs`). `deliveries` is counted with `countFailures`.
 */
export type Take = (record: KafkaMessage, partition: number, settle: (error?: unknown, redeliverAfterMs?: number) => void, deliveries: number | undefined) => void;

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
  /** Count each record's failed deliveries, for a dead-letter topic. */
  countFailures?: boolean;
  /** A group without committed offsets starts at the oldest record kept, not at the end. */
  fromEarliest?: boolean;
}

/** How long a new member may take to get its share of the topic before `consume` fails. */
const JOIN_TIMEOUT_MS = 30_000;

/** Stops the consumer: leaves the group and disconnects. */
export type StopConsuming = () => Promise<void>;

/**
 * Consumes `options.topic` in its group. A join that fails because a broker does not know the topic
 * yet (on a cluster, just after it was made) is made again from the start, for ten seconds at most.
 */
export function consume(connection: Connection, options: ConsumeOptions): Promise<StopConsuming> {
  return whileUnknown(() => consumeOnce(connection, options));
}

async function consumeOnce(connection: Connection, options: ConsumeOptions): Promise<StopConsuming> {
  const { topic, groupId } = options;
  let starts: Map<number, string>;
  try {
    starts = await startOffsets(connection.admin, topic, options.fromEarliest === true);
  } catch (error) {
    throw toKafkaError(error, `reading the offsets of "${topic}"`, MAX_PAYLOAD);
  }
  const consumer = connection.consumer(groupId);
  const flow = new Flow(options.maxPending);
  const label = `the consumer of "${topic}" (group ${groupId})`;
  const ledger = new Ledger(consumer, topic, flow, options.countFailures === true, (error) =>
    connection.status.error(label, toKafkaError(error, `committing offsets of "${topic}" (the records will be delivered again)`, MAX_PAYLOAD)),
  );
  // A new generation of the group reads again from the committed offsets: what was in hand is forgotten.
  consumer.on(consumer.events.GROUP_JOIN, () => ledger.forget());
  const joined = placedOnJoin(consumer, connection.admin, options, starts);
  const watching = joined.done.then(() => watch(consumer, connection.status, label, topic));
  watching.catch(() => undefined); // a consumer that never joined is the caller's rejection below
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => readBatch(payload, options.take, flow, ledger),
    });
    await joined.done;
  } catch (error) {
    joined.cancel();
    flow.stop();
    // The join's failure is the news; a consumer that cannot even disconnect has nothing to release.
    await consumer.disconnect().catch(() => undefined);
    throw toKafkaError(error, `joining group "${groupId}" on "${topic}"`, MAX_PAYLOAD);
  }
  return () => {
    // Settles arrive right after this resolves (the core gives back what it still holds), and
    // the offsets they allow are committed before the group is left: so leave on the next turn.
    flow.stopTaking();
    // Held for a nack's delay: not committed, so the group's next member reads it again.
    ledger.release();
    const leaving = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      flow.stop();
      await ledger.committed();
      await consumer.disconnect();
      // A group named for this one consumer has no use after it: drop its offsets from the broker
      // (one left behind holds only offsets, which the broker expires).
      if (options.ephemeral) await connection.admin.deleteGroups([groupId]).catch(() => undefined);
    });
    connection.leaving(leaving);
    return Promise.resolve();
  };
}

/**
 * After the first join: a crash that kafkajs restarts from is a lost connection and its reconnect
 * (back once the group is joined again); one it does not restart from ends this consumer's reading.
 */
function watch(consumer: Consumer, status: StatusFeed, connection: string, topic: string): void {
  let attempt = 0;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    const error = toKafkaError(payload.error, `reading "${topic}"`, MAX_PAYLOAD);
    if (!payload.restart) {
      status.error(connection, new ConnectionError(`kafka: ${connection} stopped and will not restart: ${error.message}; subscribe again`, { cause: payload.error }));
      return;
    }
    if (attempt === 0) status.emit({ type: 'disconnected', connection, error });
    status.emit({ type: 'reconnecting', connection, attempt: ++attempt, delayMs: 0 });
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (attempt > 0) status.emit({ type: 'reconnected', connection });
    attempt = 0;
  });
}

/** Each partition's end offset now: where a group without offsets starts. */
/** Where a partition without a committed offset starts: its end, or with `earliest` its oldest record kept. */
async function startOffsets(admin: Admin, topic: string, earliest: boolean): Promise<Map<number, string>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, earliest ? p.low : p.offset]));
    } catch (error) {
      // A topic created a moment ago may not have its leader in every client's metadata yet.
      if (attempt >= 5 || !(error as { retriable?: boolean }).retriable) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/**
 * Resolves once the consumer has its first assignment and each assigned partition where the group
 * has no committed offset is placed at `starts` (the end when `consume` began, or the oldest record
 * kept): what is published from then on is delivered, and nothing before unless asked for. Offsets are read only after joining, because a member
 * that left just before commits on its way out, and the join waits for it to be gone.
 */
function placedOnJoin(consumer: Consumer, admin: Admin, options: ConsumeOptions, starts: Map<number, string>) {
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
        const place = assigned.filter((p) => !started.has(p)).map((partition) => ({ topic, partition, offset: starts.get(partition) ?? '0' }));
        for (const entry of place) consumer.seek(entry);
        // Committed too, so that a member that takes a partition over later starts there as well.
        if (place.length > 0) await consumer.commitOffsets(place);
        consumer.resume([{ topic }]);
      })().then(resolve, reject);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      // On a cluster, the broker asked for metadata may not know a topic made a moment ago; kafkajs
      // starts the consumer again by itself, and the join that follows is the one awaited here.
      if (event.payload.restart && isUnknownTopic(event.payload.error)) return;
      clearTimeout(timer);
      options.onCrash?.(event.payload.error);
      reject(event.payload.error);
    });
    cancel = () => {
      clearTimeout(timer);
      offJoin();
    };
  });
  // Awaited by consume; this keeps a crash before that await from being an unhandled rejection.
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

/** One record handed on: where it is in its partition, and whether it is done. */
interface InHand {
  readonly offset: string;
  done: boolean;
}

/**
 * The records handed on and not yet committed, per partition in offset order, across batches. As
 * they settle, the offset after the longest run of done records from the oldest is committed; a
 * record settled with an error is read again from its offset, and so is what followed it.
 */
class Ledger {
  readonly #lines = new Map<number, InHand[]>();
  readonly #due = new Map<number, string>();
  #committing: Promise<void> | undefined;
  /** Failed deliveries of records not yet done, by `partition:offset`; undefined when not counted. */
  readonly #failures: Map<string, number> | undefined;
  /** Nacks waiting for their delay. */
  readonly #held = new Set<NodeJS.Timeout>();

  constructor(
    readonly consumer: Consumer,
    readonly topic: string,
    readonly flow: Flow,
    countFailures: boolean,
    readonly commitFailed: (error: unknown) => void,
  ) {
    if (countFailures) this.#failures = new Map();
  }

  /** This delivery's number (failures so far, plus one), when failures are counted. */
  deliveries(partition: number, offset: string): number | undefined {
    const failures = this.#failures;
    return failures ? (failures.get(`${partition}:${offset}`) ?? 0) + 1 : undefined;
  }

  /** Records that `record` is in the consumer's hands; the function returned settles it, once. */
  hand(partition: number, offset: string): (error?: unknown, redeliverAfterMs?: number) => void {
    let line = this.#lines.get(partition);
    if (!line) this.#lines.set(partition, (line = []));
    const entry: InHand = { offset, done: false };
    line.push(entry);
    const inLine = line;
    let settled = false;
    const settle = (error?: unknown, redeliverAfterMs?: number): void => {
      if (settled) return;
      if (error !== undefined && redeliverAfterMs !== undefined && this.flow.taking) {
        const timer = setTimeout(() => {
          this.#held.delete(timer);
          settle(error);
        }, redeliverAfterMs);
        this.#held.add(timer);
        return;
      }
      settled = true;
      this.flow.settled();
      this.#count(partition, offset, error);
      // A line forgotten (the group moved on) or cut short (a record before it failed): read again anyway.
      if (this.#lines.get(partition) !== inLine) return;
      const at = inLine.indexOf(entry);
      if (at < 0) return;
      if (error === undefined) {
        entry.done = true;
        this.#advance(partition, inLine);
      } else {
        inLine.splice(at);
        // Stopping: the group's next member reads it again from the committed offset.
        if (this.flow.taking) this.consumer.seek({ topic: this.topic, partition, offset });
      }
    };
    return settle;
  }

  #count(partition: number, offset: string, error: unknown): void {
    const failures = this.#failures;
    if (!failures) return;
    const key = `${partition}:${offset}`;
    if (error === undefined) failures.delete(key);
    // Given back unconsumed (the subscription ended) is no failed delivery.
    else if (!isMsgError(error, 'CLOSED')) failures.set(key, (failures.get(key) ?? 0) + 1);
  }

  /** Drops what waits for a nack's delay: it stays uncommitted, for the group to read again. */
  release(): void {
    for (const timer of this.#held) clearTimeout(timer);
    this.#held.clear();
  }

  #advance(partition: number, line: InHand[]): void {
    let done = 0;
    while (line[done]?.done) done++;
    if (done === 0) return;
    const last = line[done - 1] as InHand;
    line.splice(0, done);
    this.#due.set(partition, (BigInt(last.offset) + 1n).toString());
    this.#committing ??= this.#commit();
  }

  /** One commit at a time, of the latest offsets due, so that a partition's commits never go backwards. */
  async #commit(): Promise<void> {
    while (this.#due.size > 0) {
      const offsets = [...this.#due].map(([partition, offset]) => ({ topic: this.topic, partition, offset }));
      this.#due.clear();
      // A lost commit means a redelivery, which at-least-once allows; it is reported all the same.
      await this.consumer.commitOffsets(offsets).catch(this.commitFailed);
    }
    this.#committing = undefined;
  }

  /** Resolves once the offsets due so far are committed. */
  async committed(): Promise<void> {
    await this.#committing;
  }

  forget(): void {
    this.#lines.clear();
  }
}

const HEARTBEAT_WHILE_WAITING_MS = 1000;

async function readBatch(payload: EachBatchPayload, take: Take, flow: Flow, ledger: Ledger): Promise<void> {
  const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
  const { partition } = batch;
  let lost = false;

  /** Waits for room, heartbeating so that a slow consumer keeps its place in the group. */
  const waitForRoom = async () => {
    await flow.change(HEARTBEAT_WHILE_WAITING_MS);
    if (flow.stopped || lost) return;
    try {
      await heartbeat();
    } catch {
      // The group is rebalancing: this batch may now belong to another member, which the next
      // join sorts out; nothing is lost.
      lost = true;
    }
  };

  for (const record of batch.messages) {
    while (flow.full && !flow.stopped && !lost) await waitForRoom();
    // Stale: a record settled with an error has this partition read again from there.
    if (flow.stopped || !flow.taking || lost || !isRunning() || isStale()) break;
    flow.add();
    const settle = ledger.hand(partition, record.offset);
    // The next fetch starts after it; its commit waits in the ledger until it and those before it are done.
    resolveOffset(record.offset);
    take(record, partition, settle, ledger.deliveries(partition, record.offset));
  }
}
