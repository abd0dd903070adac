// Request/reply over DEALER -> ROUTER, asynchronous: a requester keeps one DEALER per replier
// endpoint, sends without waiting for earlier replies, and matches replies to requests by id.
// Frames: [empty delimiter, payload, meta], the shape REQ and REP use, so native peers fit.

import {
  ClosedError,
  ConnectionError,
  Kind,
  type Message,
  NoRespondersError,
  PendingReplies,
  type Serve,
  type Stop,
  toMsgError,
} from '@msg/core';
import { Dealer, Reply, Router } from 'zeromq';
import type { Directory, DirectoryChange } from './directory.js';
import { type SocketSettings, bindTo, closeBinding, forBinding, forConnecting, send } from './sockets.js';
import { DELIMITER, encodeMeta, readMessage } from './wire.js';

/** One replier endpoint as seen by a requester. */
class Replier {
  readonly dealer: Dealer;
  readonly pending = new PendingReplies();
  /** False between a disconnect and the reconnect that libzmq makes by itself. */
  up = true;

  constructor(
    readonly service: string,
    readonly endpoint: string,
    settings: SocketSettings,
  ) {
    this.dealer = forConnecting(new Dealer(), settings);
    this.dealer.events.on('disconnect', () => {
      this.up = false;
      if (this.pending.size > 0) {
        this.pending.rejectAll(
          new ConnectionError(`zmq: lost the connection to ${endpoint}, a replier of "${service}", with the request in flight; it may or may not have been handled`),
        );
      }
    });
    const refused = (event: { error: Error }) =>
      this.pending.rejectAll(
        new ConnectionError(`zmq: ${endpoint}, a replier of "${service}", refused the security handshake (${event.error.message}); check the CURVE keys`, {
          cause: event.error,
        }),
      );
    this.dealer.events.on('handshake:error:protocol', refused);
    this.dealer.events.on('handshake:error:auth', refused);
    this.dealer.events.on('handshake:error:other', refused);
    this.dealer.events.on('handshake', () => {
      this.up = true;
    });
    this.dealer.connect(endpoint);
    void this.#receive();
  }

  async #receive(): Promise<void> {
    try {
      for await (const [delimiter, payload, meta] of this.dealer) {
        if (delimiter === undefined || delimiter.length !== 0) continue;
        const reply = readMessage(this.service, payload, meta);
        if (reply) this.pending.resolve(reply.id, reply);
      }
    } catch {
      // The socket was closed.
    }
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
  #unwatch: () => void;

  constructor(directory: Directory, settings: SocketSettings) {
    this.#directory = directory;
    this.#settings = settings;
    this.#unwatch = directory.watch((change) => this.#follow(change));
  }

  request(request: Message, signal: AbortSignal): Promise<Message> {
    const endpoints = this.#directory.services(request.subject);
    if (endpoints.length === 0) return Promise.reject(new NoRespondersError(request.subject));
    const replier = this.#pick(request.subject, endpoints);
    const reply = replier.pending.wait(request.id, signal);
    send(replier.dealer, [DELIMITER, request.data, encodeMeta(Kind.request, request)]).catch((error: unknown) =>
      replier.pending.reject(request.id, refused(error, replier.endpoint)),
    );
    return reply;
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
    replier.close(new ConnectionError(`zmq: the replier at ${change.endpoint} stopped serving "${change.name}" with the request in flight`));
  }

  close(): void {
    this.#unwatch();
    for (const known of this.#repliers.values()) {
      for (const replier of known.values()) replier.close(new ClosedError());
    }
    this.#repliers.clear();
  }
}

export interface ServeOptions {
  directory: Directory;
  settings: SocketSettings;
  /** Where to bind a fresh endpoint: a base such as `tcp://127.0.0.1`. */
  bind: string;
  /** Exact endpoints to bind instead; the first is the one listed in the directory. */
  exact: readonly string[];
  /** 0: the ROUTER serves every request as it comes. N: a ROUTER front with N REP workers behind it. */
  workers: number;
}

/** Serves `service` on a fresh ROUTER endpoint listed in the directory until stopped. */
export async function serve(service: string, handler: Serve, options: ServeOptions): Promise<Stop> {
  const front = forBinding(new Router(), options.settings);
  let endpoint: string;
  let stopWorkers: () => void;
  try {
    const [first, ...more] = options.exact;
    endpoint = await bindTo(front, options.settings, options.bind, first);
    for (const other of more) await bindTo(front, options.settings, other, other);
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
        const [identity, delimiter, payload, meta] = frames;
        if (identity === undefined || delimiter === undefined || delimiter.length !== 0) continue;
        const request = readMessage(service, payload, meta);
        if (!request) continue;
        void handler(request).then((reply) =>
          // A ROUTER never blocks: a reply to a requester that is gone is dropped.
          send(router, [identity, DELIMITER, reply.data, encodeMeta(Kind.reply, reply)]).catch(() => undefined),
        );
      }
    } catch {
      // The socket was closed.
    }
  })();
  return () => undefined;
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
      await send(worker, [reply.data, encodeMeta(Kind.reply, reply)]);
    }
  } catch {
    // Closed.
  }
}
