// Request/reply over DEALER -> ROUTER, asynchronous: a requester keeps one DEALER per replier
// endpoint, sends without waiting for earlier replies, and matches replies to requests by id.
// Frames: [id, empty delimiter, payload] (and a meta frame when there are headers): the id is the
// envelope that REQ/REP peers keep before the delimiter, so a native REP (or a ROUTER that echoes
// the envelope) answers a msg requester, and a native REQ's [delimiter, payload] reaches a msg replier.

import {
  ClosedError,
  ConnectionError,
  Kind,
  type Message,
  NoRespondersError,
  PendingReplies,
  type RequestCall,
  type Serve,
  type Stop,
  toMsgError,
} from '@msg/core';
import { Dealer, Reply, Router } from 'zeromq';
import type { Directory, DirectoryChange } from '@msg/discovery';
import { type SocketSettings, bindTo, closeBinding, forBinding, forConnecting, send } from './sockets.js';
import { DELIMITER, type Frame, body, idFrame, idOf, readMessage } from './wire.js';

/** How often a replier that left the directory looks whether its last requests have settled. */
const RETIRED_CHECK_MS = 100;
/** How long after a disconnect the replies that arrived before it are still read. */
const DISCONNECT_GRACE_MS = 50;

/** One replier endpoint as seen by a requester. */
class Replier {
  readonly dealer: Dealer;
  readonly pending = new PendingReplies();
  /** False between a disconnect and the reconnect that libzmq makes by itself. */
  up = true;
  /** Set once it left the directory: it takes no new request and closes once those in flight are settled. */
  #retired: (() => void) | undefined;

  constructor(
    readonly service: string,
    readonly endpoint: string,
    settings: SocketSettings,
  ) {
    this.dealer = forConnecting(new Dealer(), settings);
    const { status } = settings;
    const connection = `the replier at ${endpoint} of "${service}"`;
    let attempt = 0;
    this.dealer.events.on('disconnect', () => {
      this.up = false;
      attempt = 0;
      const error = new ConnectionError(`zmq: lost the connection to ${endpoint}, a replier of "${service}"; libzmq reconnects`);
      status.emit({ type: 'disconnected', connection, error });
      // The disconnect can be told before the socket is read: a reply that came just before it (a
      // replier that answers and exits) is still read in the grace; requests left then have failed.
      setTimeout(() => {
        if (this.up || this.pending.size === 0) return;
        this.pending.rejectAll(
          new ConnectionError(`zmq: lost the connection to ${endpoint}, a replier of "${service}", with the request in flight; it may or may not have been handled`),
        );
      }, DISCONNECT_GRACE_MS).unref();
    });
    this.dealer.events.on('connect:retry', ({ interval }) => {
      if (!this.up) status.emit({ type: 'reconnecting', connection, attempt: ++attempt, delayMs: interval });
    });
    const refused = (event: { error: Error }) => {
      const error = new ConnectionError(`zmq: ${endpoint}, a replier of "${service}", refused the security handshake (${event.error.message}); check the CURVE keys`, {
        cause: event.error,
      });
      status.error(connection, error);
      this.pending.rejectAll(error);
    };
    this.dealer.events.on('handshake:error:protocol', refused);
    this.dealer.events.on('handshake:error:auth', refused);
    this.dealer.events.on('handshake:error:other', refused);
    this.dealer.events.on('handshake', () => {
      if (!this.up) status.emit({ type: 'reconnected', connection });
      this.up = true;
    });
    this.dealer.connect(endpoint);
    void this.#receive();
  }

  async #receive(): Promise<void> {
    try {
      for await (const [id, delimiter, payload, meta] of this.dealer) {
        if (id === undefined || delimiter === undefined || delimiter.length !== 0) continue;
        const reply = readMessage(this.service, payload, meta);
        if (reply) this.pending.resolve(idOf(id), reply);
        if (this.#retired) this.#closeIfDone();
      }
    } catch {
      // The socket was closed.
    }
  }

  /**
   * The replier left the directory. Requests in flight still get their replies: a replier that
   * stops after answering says so by discovery, which may arrive before the reply it sent.
   */
  retire(closed: () => void): void {
    this.#retired = closed;
    if (this.#closeIfDone()) return;
    // Requests that time out leave no trace here: look again until they are all gone (rare, so no
    // cost on the hot path, where requests are added without a hook of their own).
    const check = setInterval(() => {
      if (this.#closeIfDone()) clearInterval(check);
    }, RETIRED_CHECK_MS);
    check.unref();
  }

  /** Closes a retired replier once nothing is in flight; true once closed. */
  #closeIfDone(): boolean {
    if (this.dealer.closed) return true;
    if (!this.#retired || this.pending.size > 0) return false;
    this.dealer.close();
    this.#retired();
    return true;
  }

  close(reason: unknown): void {
    this.pending.rejectAll(reason);
    this.dealer.close();
  }
}

function refused(error: unknown, endpoint: string): unknown {
  if ((error as { code?: unknown })?.code !== 'EAGAIN') return toMsgError(error, 'zmq');
  return new ConnectionError(`zmq: the queue to ${endpoint} is full (its high-water mark); the request was not sent`, { cause: error });
}

export class Requester {
  #directory: Directory;
  #settings: SocketSettings;
  /** service -> endpoint -> replier */
  #repliers = new Map<string, Map<string, Replier>>();
  #turn = 0;
  /** Repliers that left the directory with requests in flight. */
  #retiring = new Set<Replier>();
  #unwatch: () => void;

  constructor(directory: Directory, settings: SocketSettings) {
    this.#directory = directory;
    this.#settings = settings;
    this.#unwatch = directory.watch((change) => this.#follow(change));
  }

  request(call: RequestCall): void {
    const request = call.message;
    const endpoints = this.#directory.services(request.subject);
    if (endpoints.length === 0) return call.reject(new NoRespondersError(request.subject));
    const replier = this.#pick(request.subject, endpoints);
    replier.pending.add(request.id, call);
    send(replier.dealer, [idFrame(request.id), DELIMITER, ...body(Kind.request, request)]).catch((error: unknown) => replier.pending.reject(request.id, refused(error, replier.endpoint)));
  }

  /** Round robin over the endpoints that are not known to be down (over all of them if every one is). */
  #pick(service: string, endpoints: readonly string[]): Replier {
    let known = this.#repliers.get(service);
    if (!known) this.#repliers.set(service, (known = new Map()));
    const start = this.#turn++;
    let fallback: Replier | undefined;
    for (let i = 0; i < endpoints.length; i++) {
      const endpoint = endpoints[(start + i) % endpoints.length] as string;
      let replier = known.get(endpoint);
      if (!replier) known.set(endpoint, (replier = new Replier(service, endpoint, this.#settings)));
      if (replier.up) return replier;
      fallback ??= replier;
    }
    return fallback as Replier;
  }

  #follow(change: DirectoryChange): void {
    if (change.kind !== 'service' || change.added) return;
    const known = this.#repliers.get(change.name);
    const replier = known?.get(change.endpoint);
    if (!known || !replier) return;
    known.delete(change.endpoint);
    if (known.size === 0) this.#repliers.delete(change.name);
    this.#retiring.add(replier);
    replier.retire(() => this.#retiring.delete(replier));
  }

  close(): void {
    this.#unwatch();
    for (const known of this.#repliers.values()) {
      for (const replier of known.values()) replier.close(new ClosedError());
    }
    this.#repliers.clear();
    for (const replier of this.#retiring) replier.close(new ClosedError());
    this.#retiring.clear();
  }
}

export interface ServeOptions {
  directory: Directory;
  settings: SocketSettings;
  /** Where to bind a fresh endpoint: a base such as `tcp://127.0.0.1`. */
  bind: string;
  /** Exact endpoints to bind instead; the first is the one listed in the directory. */
  exact: readonly string[];
  /** A ROUTER bound already (at the transport's creation), used instead of binding one. */
  front: Front | undefined;
  /** 0: the ROUTER serves every request as it comes. N: a ROUTER front with N REP workers behind it. */
  workers: number;
}

/** A replier's ROUTER and the endpoint listed in the directory for it. */
export interface Front {
  readonly router: Router;
  readonly endpoint: string;
}

/** Binds a ROUTER on the exact endpoints (the first is the one listed), or on a fresh one under `base`. */
export async function bindFront(settings: SocketSettings, base: string, exact: readonly string[]): Promise<Front> {
  const router = forBinding(new Router(), settings);
  try {
    const [first, ...more] = exact;
    const endpoint = await bindTo(router, settings, base, first);
    for (const other of more) await bindTo(router, settings, other, other);
    return { router, endpoint };
  } catch (error) {
    closeBinding(router, settings);
    throw error;
  }
}

/** Serves `service` on a ROUTER endpoint listed in the directory until stopped. */
export async function serve(service: string, handler: Serve, options: ServeOptions): Promise<Stop> {
  const { router: front, endpoint } = options.front ?? (await bindFront(options.settings, options.bind, options.exact));
  let stopWorkers: () => void;
  try {
    stopWorkers = options.workers > 0 ? await serveWithWorkers(front, service, handler, options) : serveEach(front, service, handler);
  } catch (error) {
    closeBinding(front, options.settings);
    throw error;
  }
  options.directory.addService(service, endpoint);
  return async () => {
    options.directory.removeService(service, endpoint);
    stopWorkers();
    closeBinding(front, options.settings);
  };
}

/** The plain shape: every request is handled as it arrives, any number at a time. */
function serveEach(router: Router, service: string, handler: Serve): () => void {
  void (async () => {
    try {
      for await (const frames of router) {
        const parsed = parseRequest(service, frames);
        if (!parsed) continue;
        const { envelope, request } = parsed;
        void handler(request).then((reply) =>
          // A ROUTER never blocks: a reply to a requester that is gone is dropped.
          send(router, [...envelope, DELIMITER, ...body(Kind.reply, reply)]).catch(() => undefined),
        );
      }
    } catch {
      // The socket was closed.
    }
  })();
  return () => undefined;
}

/**
 * A request as a ROUTER receives it: [identity, ...envelope, delimiter, payload, meta?]. The envelope
 * (our requester's id frame; none from a native REQ) goes back before the reply's delimiter.
 */
function parseRequest(service: string, frames: Buffer[]): { envelope: Frame[]; request: Message } | undefined {
  let at = 1;
  while (at < frames.length && frames[at]!.length !== 0) at++;
  if (at >= frames.length) return undefined;
  const meta = frames[at + 2];
  const message = readMessage(service, frames[at + 1], meta);
  if (!message) return undefined;
  // Without a meta frame, our requester's id frame is the request's id (a native REQ sends none).
  const request = meta === undefined && at === 2 ? { ...message, id: idOf(frames[1]!) } : message;
  return { envelope: frames.slice(0, at), request };
}

let backCounter = 0;

/**
 * The worker shape: the ROUTER front hands requests through a DEALER back to N REP workers, each
 * handling one request at a time, so at most N handlers run at once.
 */
async function serveWithWorkers(front: Router, service: string, handler: Serve, options: ServeOptions): Promise<() => void> {
  const back = forBinding(new Dealer(), { ...options.settings, curve: undefined });
  // The hand-over waits for a worker's queue to have room rather than dropping the request.
  back.sendTimeout = -1;
  const address = `inproc://msg-zmq-workers-${process.pid}-${++backCounter}`;
  await back.bind(address);
  const workers = Array.from({ length: options.workers }, () => {
    const worker = forConnecting(new Reply(), { ...options.settings, curve: undefined });
    worker.connect(address);
    void work(worker, service, handler);
    return worker;
  });
  void (async () => {
    try {
      for await (const frames of front) await back.send(frames);
    } catch {
      // Closed.
    }
  })();
  void (async () => {
    try {
      for await (const frames of back) await send(front, frames);
    } catch {
      // Closed.
    }
  })();
  return () => {
    for (const worker of workers) worker.close();
    back.close();
  };
}

async function work(worker: Reply, service: string, handler: Serve): Promise<void> {
  try {
    for await (const [payload, meta] of worker) {
      const request = readMessage(service, payload, meta);
      // REP must answer every request; a malformed one gets an empty frame, which requesters drop.
      if (!request) {
        await send(worker, [DELIMITER]);
        continue;
      }
      const reply = await handler(request);
      await send(worker, body(Kind.reply, reply));
    }
  } catch {
    // Closed.
  }
}
