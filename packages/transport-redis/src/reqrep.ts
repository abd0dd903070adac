// Request/reply. A service is a Redis list: requesters LPUSH, each replier pops with RPOP and BRPOP on
// its own blocking connection, so each request reaches exactly one replier. Repliers also subscribe to the
// service's presence channel; a script pushes only when that channel has subscribers, which gives
// NoRespondersError instead of a request waiting in a list that nobody reads. Replies go to the
// requester's inbox channel and are matched by id.

import { BadFrameError, Kind, type Message, NoRespondersError, PendingReplies, type RequestCall, type Serve, type Stop } from '@msg/core';
import type { Redis } from 'ioredis';
import type { Channels } from './channels.js';
import { type ServerSettings, backoff, connectionError, dropConnection, openConnection, sleep } from './connection.js';
import { type Names, frame, unframe } from './wire.js';

/** Seconds a replier's BRPOP waits before it asks again; a stop does not wait for it. */
const POP_SECONDS = 5;

/**
 * Requests a replier takes in one RPOP beside its BRPOP. One pop per round trip would cap a replier
 * at one request per round trip whatever its concurrency; a small batch keeps requests spread over
 * several repliers when they queue up.
 */
const POP_BATCH = 32;

// KEYS[1] request list; ARGV: presence channel, request, expiry of the list in ms. On a cluster the
// presence channel is sharded (on the node of the list's slot, which counts its subscribers there);
// plain NUMSUB would count only the subscribers connected to that one node.
const pushIfServed = (count: 'NUMSUB' | 'SHARDNUMSUB') => `
if redis.call('PUBSUB', '${count}', ARGV[1])[2] == 0 then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

interface WithPushScript {
  msgPushIfServed(list: string, presence: string, request: Buffer, expiryMs: number): Promise<number>;
}

export function definePushScript(command: Redis, sharded: boolean): Redis & WithPushScript {
  command.defineCommand('msgPushIfServed', { numberOfKeys: 1, lua: pushIfServed(sharded ? 'SHARDNUMSUB' : 'NUMSUB') });
  return command as Redis & WithPushScript;
}

export interface RequestContext {
  settings: ServerSettings;
  names: Names;
  command: Redis & WithPushScript;
  channels: Channels;
  /** Subscribes the inbox once and resolves to its channel name. */
  inbox: () => Promise<string>;
  /** Requests left in a list longer than this (nobody popped them) expire with the list. */
  requestExpiryMs: number;
  /** How many requests one replier serves at once. */
  replyConcurrency: number;
  /** A frame that does not decode, received on `connection` (default: the subscriber). */
  onBadFrame: (error: unknown, connection?: string) => void;
  /** Tracks the blocking connections opened here, so that close releases them. */
  blocking: Set<Redis>;
}

export class Requests {
  readonly pending = new PendingReplies();
  readonly #ctx: RequestContext;

  constructor(ctx: RequestContext) {
    this.#ctx = ctx;
  }

  async request(call: RequestCall): Promise<void> {
    const { names, command, settings } = this.#ctx;
    const request = call.message;
    const inbox = await this.#ctx.inbox();
    if (call.done) return;
    this.pending.add(request.id, call);
    try {
      const pushed = await command.msgPushIfServed(
        names.requests(request.subject),
        names.repliers(request.subject),
        frame(Kind.request, request, inbox),
        this.#ctx.requestExpiryMs,
      );
      if (pushed === 0) this.pending.reject(request.id, new NoRespondersError(request.subject));
    } catch (error) {
      this.pending.reject(request.id, connectionError(settings, `sending the request to "${request.subject}" failed`, error));
    }
  }

  /** The inbox hands each reply here. */
  resolve(message: Message): void {
    this.pending.resolve(message.id, message);
  }

  async reply(service: string, serve: Serve): Promise<Stop> {
    const { settings, names, channels } = this.#ctx;
    const blocking = await openConnection(settings, 'blocking', POP_SECONDS * 1000, `serving "${service}"`);
    this.#ctx.blocking.add(blocking);
    const stopped = new AbortController();
    const serving = this.#serveQueue(blocking, names.requests(service), serve, stopped.signal);
    let unlisten: Stop;
    try {
      const presence = names.repliers(service);
      unlisten = await (settings.cluster ? channels.listenSharded(presence, () => undefined) : channels.listen(presence, () => undefined));
    } catch (error) {
      stopped.abort();
      await dropConnection(blocking);
      this.#ctx.blocking.delete(blocking);
      throw connectionError(settings, `serving "${service}" failed`, error);
    }
    return async () => {
      // Leave the presence channel first, so that new requests fail fast instead of queueing.
      await unlisten();
      stopped.abort();
      await dropConnection(blocking);
      this.#ctx.blocking.delete(blocking);
      await serving;
    };
  }

  /**
   * Each round sends `RPOP list n` and `BRPOP list` together: the RPOP takes what is queued now, up to
   * the free slots, and the BRPOP, run right after it by the server, waits for the next request. A
   * replier under load thus takes up to n + 1 requests per round trip; an idle one waits in BRPOP.
   */
  async #serveQueue(blocking: Redis, list: string, serve: Serve, stopped: AbortSignal): Promise<void> {
    let serving = 0;
    let freed: (() => void) | undefined;
    let failures = 0;
    const aborted = new Promise<void>((resolve) => stopped.addEventListener('abort', () => resolve(), { once: true }));
    const answer = (bytes: Buffer) => {
      serving++;
      void this.#answer(bytes, serve).finally(() => {
        serving--;
        freed?.();
        freed = undefined;
      });
    };
    while (!stopped.aborted) {
      const free = this.#ctx.replyConcurrency - serving;
      if (free <= 0) {
        // A stop must not wait for handlers that never finish.
        await Promise.race([new Promise<void>((resolve) => (freed = resolve)), aborted]);
        continue;
      }
      const batch = Math.min(free - 1, POP_BATCH);
      const queued = batch > 0 ? blocking.rpopBuffer(list, batch) : Promise.resolve(null);
      const next = blocking.brpopBuffer(list, POP_SECONDS);
      // Both are read even when one fails, so that neither rejection goes unhandled.
      const [now, later] = await Promise.allSettled([queued.then((popped) => popped?.forEach(answer)), next]);
      if (later.status === 'fulfilled' && later.value) answer(later.value[1]);
      if (now.status === 'fulfilled' && later.status === 'fulfilled') {
        failures = 0;
        continue;
      }
      if (stopped.aborted) return;
      // A lost connection is the connection's event; a failure on a live one is news (the loop retries).
      if (failures === 0 && blocking.status === 'ready') {
        const reason = now.status === 'rejected' ? now.reason : (later as PromiseRejectedResult).reason;
        this.#ctx.settings.status.error(`serving "${list}"`, connectionError(this.#ctx.settings, `taking requests from "${list}" failed; retrying with backoff`, reason));
      }
      // The connection is retrying on its own; wait a little so a dead server is not polled hot.
      await sleep(backoff(++failures), stopped);
    }
  }

  async #answer(bytes: Buffer, serve: Serve): Promise<void> {
    let request: Message;
    let replyTo: string;
    try {
      ({ message: request, replyTo } = unframe(bytes, Kind.request));
      if (replyTo === '') throw new BadFrameError('a request without a reply-to channel');
    } catch (error) {
      this.#ctx.onBadFrame(error, 'replier');
      return;
    }
    const reply = await serve(request);
    // PUBLISH fails only with the connection, which status() reports; the requester's timeout ends its wait.
    await this.#ctx.command.publish(replyTo, frame(Kind.reply, reply)).catch(() => undefined);
  }
}
