// At-least-once publish/subscribe on Redis Streams. A topic is a stream trimmed to about
// `maxStreamLength` entries; a subscription is a consumer group (its own, a durable one resumed by
// name, or one shared by a queue group). An entry is acknowledged (XACK) once the core settles it
// without error; otherwise it stays pending and is read again: at once by the same subscription
// after a nack or a reconnect, and by any member of the group (XAUTOCLAIM) once it has been idle for
// `claimIdleMs`, e.g. because the subscriber holding it died. A nack with a delay keeps the entry
// pending and in hand until the delay has passed. Redis counts each entry's deliveries (XREADGROUP
// and XAUTOCLAIM both add one); a subscription with a dead-letter topic reads the count with
// XPENDING for every entry that is not new.

import { randomUUID } from 'node:crypto';
import { type BackendSubscribeOptions, type Deliver, Kind, type Message, type Stop } from '@msg/core';
import type { Redis } from 'ioredis';
import { type ServerSettings, backoff, connectionError, dropConnection, openConnection, refreshLayout, sleep, tidy } from './connection.js';
import { type Names, frame, unframe } from './wire.js';

export interface StreamContext {
  settings: ServerSettings;
  names: Names;
  command: Redis;
  maxStreamLength: number;
  keyExpiryMs: number;
  claimIdleMs: number;
  /** Replicas that must confirm an entry (WAIT) before its publish resolves; 0: the master's answer. */
  replicaAcks: number;
  /** A frame that does not decode, received on `connection` (default: the subscriber). */
  onBadFrame: (error: unknown, connection?: string) => void;
  /** A subscription found its consumer group gone and created it again: what was in it is lost. */
  onGroupLost: (key: string, group: string) => void;
  blocking: Set<Redis>;
}

/** How long one XREADGROUP waits in the server before the reader looks at its own state again. */
const POLL_MS = 1000;
/** Entries read per command at most. */
const BATCH = 100;
/** Each stream entry has one field, the envelope. */
const FIELD = 'm';

export async function publishToStream(ctx: StreamContext, message: Message): Promise<void> {
  const key = ctx.names.stream(message.subject);
  const entry = frame(Kind.publish, message);
  if (ctx.replicaAcks === 0) {
    // XADD is safe once Redis answers (as safe as the server's persistence settings make it).
    await Promise.all([ctx.command.xadd(key, 'MAXLEN', '~', ctx.maxStreamLength, '*', FIELD, entry), ctx.command.pexpire(key, ctx.keyExpiryMs)]);
    return;
  }
  // Replication is asynchronous: a master that dies right after XADD may take the entry with it, and
  // the replica promoted in its place never had it. WAIT, on the same connection (one pipeline goes
  // to the key's node), resolves once that many replicas have everything written before it.
  const waitMs = Math.max(1, Math.floor(ctx.settings.commandTimeoutMs / 2));
  let replies: [Error | null, unknown][] | null;
  for (let attempt = 1; ; attempt++) {
    replies = await ctx.command.pipeline().xadd(key, 'MAXLEN', '~', ctx.maxStreamLength, '*', FIELD, entry).pexpire(key, ctx.keyExpiryMs).wait(ctx.replicaAcks, waitMs).exec();
    const failed = replies?.find(([error]) => error)?.[0];
    // The node asked no longer holds the slot (a failover; the old master is back as a replica):
    // nothing was written there. ioredis follows MOVED for a pipeline only when every command got
    // it, and WAIT, which has no key, does not: learn the new layout and send it again.
    if (failed && failed.message.startsWith('MOVED ') && attempt < 3) {
      await refreshLayout(ctx.command);
      continue;
    }
    if (!replies || failed) throw failed ?? new Error('the pipeline was discarded');
    break;
  }
  const confirmed = Number(replies[2]?.[1] ?? 0);
  if (confirmed < ctx.replicaAcks) {
    throw new Error(
      `the entry is on the master but ${confirmed} of ${ctx.replicaAcks} replicas confirmed it within ${waitMs} ms, so a failover could lose it; publish again (a subscriber may then see it twice)`,
    );
  }
}

export async function subscribeToStream(
  ctx: StreamContext,
  topic: string,
  deliver: Deliver,
  options: BackendSubscribeOptions,
): Promise<Stop> {
  const { command, settings } = ctx;
  const key = ctx.names.stream(topic);
  const once = options.queue === undefined && options.durable === undefined;
  const group = options.queue !== undefined ? `queue.${options.queue}` : options.durable !== undefined ? `durable.${options.durable}` : `once.${randomUUID()}`;
  // A durable subscription keeps its consumer name, so that it resumes the entries it held.
  const consumer = options.durable ?? randomUUID();
  try {
    // `$`: a new group starts with what is published from now on (`0`: with the oldest entry the
    // stream still keeps); an existing one resumes.
    await createGroup(command, key, group, options.fromEarliest ? '0' : '$');
    await command.pexpire(key, ctx.keyExpiryMs);
  } catch (error) {
    throw connectionError(settings, `subscribing to "${topic}" failed`, error);
  }
  const blocking = await openConnection(settings, 'blocking', POLL_MS, `stream "${key}"`);
  ctx.blocking.add(blocking);
  const reader = new StreamReader(ctx, blocking, key, group, consumer, deliver, options.maxPending, options.deadLetter !== undefined);
  return async () => {
    await reader.stop();
    ctx.blocking.delete(blocking);
    if (once) await tidy(command, (client) => client.xgroup('DESTROY', key, group));
  };
}

/** Creates the consumer group, and the stream when there is none; a group that exists is left as it is. */
async function createGroup(client: Redis, key: string, group: string, from: string): Promise<void> {
  await client.xgroup('CREATE', key, group, from, 'MKSTREAM').catch((error: unknown) => {
    if (!String((error as Error)?.message).startsWith('BUSYGROUP')) throw error;
  });
}

/** The server has no such group (or stream): it lost its data, or the key expired or was deleted. */
function isNoGroup(error: unknown): boolean {
  return String((error as Error | null)?.message).startsWith('NOGROUP');
}

type Entry = [id: Buffer, fields: Buffer[] | null];

class StreamReader {
  readonly #ctx: StreamContext;
  readonly #blocking: Redis;
  readonly #key: string;
  readonly #group: string;
  readonly #consumer: string;
  readonly #deliver: Deliver;
  readonly #maxPending: number;
  /** Deliveries are counted for a dead-letter topic. */
  readonly #counted: boolean;
  readonly #stopped = new AbortController();
  /** Entries nacked with a delay, waiting to be read again. */
  readonly #held = new Set<NodeJS.Timeout>();
  /** Entries handed to the core and not settled yet. */
  readonly #inHand = new Set<string>();
  /** Where reading this consumer's own pending entries goes on; undefined when there is no need. */
  #historyFrom: string | undefined = '0';
  /**
   * The newest entry this subscription has read, where a lost group is created again: a stream that
   * was created anew holds only entries published since (later ids), and one that kept its entries
   * is not read again from the start.
   */
  #lastRead = '0-0';
  #claimCursor = '0-0';
  #nextClaim = 0;
  #wake: (() => void) | undefined;
  readonly #running: Promise<void>;

  constructor(ctx: StreamContext, blocking: Redis, key: string, group: string, consumer: string, deliver: Deliver, maxPending: number, counted: boolean) {
    this.#ctx = ctx;
    this.#blocking = blocking;
    this.#key = key;
    this.#group = group;
    this.#consumer = consumer;
    this.#deliver = deliver;
    this.#maxPending = maxPending;
    this.#counted = counted;
    // A read whose reply was lost with the connection left its entries pending here: read them again.
    blocking.on('ready', () => this.#rereadOwn());
    this.#running = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped.abort();
    // What is held stays pending: the group reads it again (this durable name, or a claim).
    for (const timer of this.#held) clearTimeout(timer);
    this.#held.clear();
    this.#wake?.();
    await dropConnection(this.#blocking);
    await this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#stopped.signal;
    let failures = 0;
    while (!signal.aborted) {
      const room = this.#maxPending - this.#inHand.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      try {
        const count = Math.min(room, BATCH);
        if (this.#historyFrom !== undefined) await this.#readOwn(count, this.#historyFrom);
        else if (Date.now() >= this.#nextClaim) await this.#claim(count);
        else await this.#readNew(count);
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        if (isNoGroup(error) && (await this.#recreateGroup())) continue;
        // A lost connection is the connection's event; a failure on a live one is news (the loop retries).
        if (failures === 0 && this.#blocking.status === 'ready') {
          this.#ctx.settings.status.error(`stream "${this.#key}"`, connectionError(this.#ctx.settings, `reading stream "${this.#key}" failed; retrying with backoff`, error));
        }
        await sleep(backoff(++failures), signal);
        this.#rereadOwn();
      }
    }
  }

  /**
   * The group is gone, and with it every position and pending entry of it: create it again where
   * this subscription stopped reading, and report the loss. False when that failed too (the server
   * is away again): the loop retries with backoff.
   */
  async #recreateGroup(): Promise<boolean> {
    try {
      await createGroup(this.#blocking, this.#key, this.#group, this.#lastRead);
      await this.#blocking.pexpire(this.#key, this.#ctx.keyExpiryMs);
    } catch {
      // The server is away again: the loop's backoff and the connection's events cover it.
      return false;
    }
    this.#ctx.onGroupLost(this.#key, this.#group);
    this.#claimCursor = '0-0';
    this.#rereadOwn();
    return true;
  }

  async #readNew(count: number): Promise<void> {
    const reply = (await this.#blocking.callBuffer(
      'XREADGROUP', 'GROUP', this.#group, this.#consumer, 'COUNT', count, 'BLOCK', POLL_MS, 'STREAMS', this.#key, '>',
    )) as [Buffer, Entry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    const last = entries[entries.length - 1];
    // New entries come in order, each batch after the one before: the last is the newest read.
    if (last) this.#lastRead = last[0].toString();
    for (const entry of entries) this.#handOver(entry, this.#counted ? 1 : undefined);
  }

  async #readOwn(count: number, from: string): Promise<void> {
    const reply = (await this.#blocking.callBuffer(
      'XREADGROUP', 'GROUP', this.#group, this.#consumer, 'COUNT', count, 'STREAMS', this.#key, from,
    )) as [Buffer, Entry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    const last = entries[entries.length - 1];
    this.#historyFrom = last ? last[0].toString() : undefined;
    await this.#handOverAgain(entries);
  }

  async #claim(count: number): Promise<void> {
    const [cursor, entries] = (await this.#blocking.callBuffer(
      'XAUTOCLAIM', this.#key, this.#group, this.#consumer, this.#ctx.claimIdleMs, this.#claimCursor, 'COUNT', count,
    )) as [Buffer, Entry[]];
    this.#claimCursor = cursor.toString();
    // A full pass over the pending entries waits for the next period; a partial one goes on at once.
    this.#nextClaim = this.#claimCursor === '0-0' ? Date.now() + this.#ctx.claimIdleMs / 2 : 0;
    await this.#handOverAgain(entries);
  }

  /** Entries read again (own pending ones, or claimed), with Redis's delivery count when it is needed. */
  async #handOverAgain(entries: Entry[]): Promise<void> {
    const again = entries.filter((entry) => !this.#inHand.has(entry[0].toString()));
    if (again.length === 0) return;
    let counts: Map<string, number> | undefined;
    if (this.#counted) {
      const first = again[0]![0].toString();
      const last = again[again.length - 1]![0].toString();
      // This consumer's pending entries in that range: these, and perhaps some still in hand.
      const pending = (await this.#ctx.command.xpending(this.#key, this.#group, first, last, again.length + this.#inHand.size, this.#consumer)) as [string, string, number, number][];
      counts = new Map(pending.map(([id, , , deliveries]) => [id, deliveries]));
    }
    for (const entry of again) {
      const id = entry[0].toString();
      // Acknowledged meanwhile (an XPENDING that no longer lists it): nothing to deliver.
      if (counts && !counts.has(id)) continue;
      this.#handOver(entry, counts?.get(id));
    }
  }

  #handOver([rawId, fields]: Entry, deliveries?: number): void {
    const id = rawId.toString();
    let message: Message;
    try {
      const value = fields?.[1];
      // A pending entry trimmed away by MAXLEN has no fields left: nothing to deliver.
      if (value === undefined) return void this.#ack(id);
      message = unframe(value, Kind.publish).message;
    } catch (error) {
      // Redelivering an entry that can never decode would loop forever: report it and let it go.
      this.#ctx.onBadFrame(error, `stream "${this.#key}"`);
      this.#ack(id);
      return;
    }
    this.#inHand.add(id);
    this.#deliver(message, (error, redeliverAfterMs) => this.#settle(id, error, redeliverAfterMs), deliveries);
  }

  #settle(id: string, error: unknown, redeliverAfterMs?: number): void {
    if (error !== undefined && redeliverAfterMs !== undefined && !this.#stopped.signal.aborted) {
      // Held: still in hand, so that reading our own pending entries skips it until the delay is over.
      const timer = setTimeout(() => {
        this.#held.delete(timer);
        this.#settle(id, error);
      }, redeliverAfterMs);
      this.#held.add(timer);
      return;
    }
    this.#inHand.delete(id);
    if (error === undefined) this.#ack(id);
    else this.#rereadOwn();
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #ack(id: string): void {
    // A lost ack only means one more delivery, which at-least-once allows; it is reported all the same.
    this.#ctx.command.xack(this.#key, this.#group, id).catch((error: unknown) => {
      this.#ctx.settings.status.error(`stream "${this.#key}"`, connectionError(this.#ctx.settings, `acknowledging entry ${id} of group "${this.#group}" failed; it will be delivered again`, error));
    });
  }

  #rereadOwn(): void {
    if (!this.#stopped.signal.aborted) this.#historyFrom = '0';
  }
}

