// Request/reply over cooked REQ and REP sockets, so that native peers interoperate as is. A cooked
// REQ socket carries one request at a time (the addon has no nn_recvmsg to reach the raw sockets'
// backtrace headers), so each service gets a pool of REQ sockets: one per request in flight, up to
// `maxInFlight`, and requests beyond that wait for a free socket. Each REQ socket connects to every
// replier of the service and nanomsg spreads its requests across them.

import { type Message, type RequestCall, type Serve, type Stop, BadFrameError, ERROR_HEADER, Kind, NoRespondersError, encodeEnvelope } from '@msg/core';
import type { Directory } from '@msg/discovery';
import { nn } from './native.js';
import { serveInTurn } from './serve.js';
import { NanoSocket, type SocketSettings, badFrame } from './socket.js';
import { type Wire, encodeRequest, readBody, readRequest, wireOf } from './wire.js';

/**
 * nanomsg resends an unanswered request on a timer (default 60 s); the core's timeout already
 * bounds a request, so only the resend when a replier's connection drops is kept.
 */
const NO_TIMED_RESEND_MS = 2 ** 31 - 1;

/** One REQ socket and the request it carries. */
class Requester {
  readonly socket: NanoSocket;
  inFlight: RequestCall | undefined;

  constructor(settings: SocketSettings, onReply: (requester: Requester, frame: Buffer) => void) {
    this.socket = new NanoSocket('req', settings);
    this.socket.setOption(nn.NN_REQ_RESEND_IVL, NO_TIMED_RESEND_MS);
    this.socket.listen(() => {
      for (let frame = this.socket.receive(); frame; frame = this.socket.receive()) onReply(this, frame);
    });
  }
}

class Pool {
  readonly #idle: Requester[] = [];
  readonly #all: Requester[] = [];
  readonly #waiting: ((requester: Requester) => void)[] = [];
  readonly #endpoints = new Set<string>();
  #version = -1;

  constructor(
    readonly settings: SocketSettings,
    readonly wire: Wire,
    readonly maxInFlight: number,
  ) {}

  /** Follows the directory: connects every socket to new repliers and away from departed ones. */
  sync(endpoints: readonly string[], version: number): void {
    if (version === this.#version) return;
    this.#version = version;
    for (const endpoint of this.#endpoints) {
      if (endpoints.includes(endpoint)) continue;
      this.#endpoints.delete(endpoint);
      for (const requester of this.#all) requester.socket.disconnect(endpoint);
    }
    for (const endpoint of endpoints) {
      this.#endpoints.add(endpoint);
      for (const requester of this.#all) requester.socket.connect(endpoint);
    }
  }

  request(call: RequestCall): void {
    let requester: Requester | undefined;
    const start = (free: Requester) => {
      requester = free;
      free.inFlight = call;
      try {
        free.socket.send(encodeRequest(call.message, call.deadline, this.wire));
      } catch (error) {
        this.#release(free);
        call.reject(error);
      }
    };
    call.onCancel(() => {
      if (requester) this.#release(requester);
      else {
        const at = this.#waiting.indexOf(start);
        if (at >= 0) this.#waiting.splice(at, 1);
      }
    });
    const free = this.#take();
    if (free) start(free);
    else this.#waiting.push(start);
  }

  #take(): Requester | undefined {
    const idle = this.#idle.pop();
    if (idle || this.#all.length >= this.maxInFlight) return idle;
    const requester = new Requester(this.settings, (from, frame) => this.#replied(from, frame));
    // A fresh socket sends its first request on the first pipe to come up, roughly the first one
    // connected: starting each socket at a different replier spreads first requests across them.
    const endpoints = [...this.#endpoints];
    const first = this.#all.length % Math.max(endpoints.length, 1);
    for (const endpoint of [...endpoints.slice(first), ...endpoints.slice(0, first)]) requester.socket.connect(endpoint);
    this.#all.push(requester);
    return requester;
  }

  /** A timed-out request stays with nanomsg until the socket's next send cancels it. */
  #release(requester: Requester): void {
    requester.inFlight = undefined;
    const next = this.#waiting.shift();
    if (next) next(requester);
    else this.#idle.push(requester);
  }

  #replied(requester: Requester, frame: Buffer): void {
    const inFlight = requester.inFlight;
    if (!inFlight) return; // the answer to a request that timed out or was aborted
    const request = inFlight.message;
    let reply: Message;
    try {
      reply = readBody(frame, request.subject, request.id);
    } catch (error) {
      this.#release(requester);
      inFlight.reject(new BadFrameError(`nanomsg: the reply from "${request.subject}" is malformed`, { cause: error }));
      return;
    }
    if (reply.id !== request.id) return;
    this.#release(requester);
    inFlight.resolve(reply);
  }

  close(): void {
    for (const requester of this.#all) requester.socket.close();
  }
}

export class Requests {
  readonly #pools = new Map<string, Pool>();

  constructor(
    readonly directory: Directory,
    readonly settings: SocketSettings,
    readonly wire: Wire,
    readonly maxInFlight: number,
  ) {}

  request(call: RequestCall): void {
    const subject = call.message.subject;
    const endpoints = this.directory.services(subject);
    if (endpoints.length === 0) return call.reject(new NoRespondersError(subject));
    let pool = this.#pools.get(subject);
    if (!pool) this.#pools.set(subject, (pool = new Pool(this.settings, this.wire, this.maxInFlight)));
    pool.sync(endpoints, this.directory.version);
    pool.request(call);
  }

  close(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}

/** A REP socket bound at `endpoints`; the first is the one listed in the directory. */
export interface Bound {
  readonly socket: NanoSocket;
  readonly endpoint: string;
}

export function bindReplier(settings: SocketSettings, endpoints: readonly string[]): Bound {
  const socket = new NanoSocket('rep', settings);
  try {
    for (const endpoint of endpoints) socket.bind(endpoint);
  } catch (error) {
    socket.close();
    throw error;
  }
  return { socket, endpoint: endpoints[0] as string };
}

/** Serves `service` on a bound REP socket, listed in the directory until stopped. */
export function serveRequests(directory: Directory, settings: SocketSettings, { socket, endpoint }: Bound, service: string, serve: Serve): Stop {
  serveInTurn(socket, (frame) => {
    let request: Message;
    let deadline: number | undefined;
    try {
      ({ request, deadline } = readRequest(frame, service));
    } catch (error) {
      // A malformed request gets no reply; the REP socket forgets it on the next one.
      badFrame(settings, `the replier of "${service}"`, error);
      return undefined;
    }
    // Nobody waits for the reply any more: skip the work.
    if (deadline !== undefined && Date.now() > deadline) return undefined;
    const envelope = wireOf(frame) === 'envelope';
    const reply = serve(request).then((reply) => {
      if (envelope) return encodeEnvelope(Kind.reply, reply);
      // A native requester gets the reply's bytes, or the handler's error message as text.
      const error = reply.headers[ERROR_HEADER];
      return error === undefined ? reply.data : Buffer.from(error);
    });
    return deadline === undefined ? reply : untilDeadline(reply, deadline);
  });
  directory.addService(service, endpoint);
  return async () => {
    directory.removeService(service, endpoint);
    socket.close();
  };
}

/**
 * The reply, or nothing once the requester's deadline has passed: the REP socket is given back for
 * the next request and a late reply is dropped, since the socket would send it as the next one's.
 */
function untilDeadline(reply: Promise<Uint8Array>, deadline: number): Promise<Uint8Array | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([reply, late]).finally(() => clearTimeout(timer));
}
