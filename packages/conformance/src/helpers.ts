// Shared tools of the suite: unique names, a reader that waits with a deadline, peers that close
// after each case, and the broker check that turns "server down" into a loud skip or, in CI, a failure.

import { createServer, connect as tcpConnect } from 'node:net';
import type { Message, StatusEvent, Transport } from '@msg/core';
import { onCaseFinished } from './context.js';

let counter = 0;
const runId = Math.random().toString(36).slice(2, 8);

/** A name no other case (or earlier run) uses, so leftovers never satisfy a case. */
export function uniqueName(label: string): string {
  counter++;
  return `conf.${label}.${runId}${counter}`;
}

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago, for a server a test starts itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const utf8 = (value: string) => encoder.encode(value);
export const str = (bytes: Uint8Array) => decoder.decode(bytes);

/** Reads an async iterable with deadlines; a read that times out keeps its place for the next one. */
export class Reader<M extends Message = Message> {
  #iterator: AsyncIterator<M>;
  #pending: Promise<IteratorResult<M>> | undefined;
  done = false;

  constructor(iterable: AsyncIterable<M>) {
    this.#iterator = iterable[Symbol.asyncIterator]();
  }

  /** The next message, or undefined when none arrives within `ms` or the stream ended. */
  async next(ms: number): Promise<M | undefined> {
    if (this.done) return undefined;
    this.#pending ??= this.#iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    const result = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') return undefined;
    this.#pending = undefined;
    if (result.done) {
      this.done = true;
      return undefined;
    }
    return result.value;
  }

  /** Exactly `count` messages, each within `ms` of the previous; throws saying how many came. */
  async take(count: number, ms: number): Promise<M[]> {
    const got: M[] = [];
    while (got.length < count) {
      const message = await this.next(ms);
      if (!message) throw new Error(`expected ${count} messages, got ${got.length} (${this.done ? 'stream ended' : `none more within ${ms} ms`})`);
      got.push(message);
    }
    return got;
  }

  /** Whether the stream ends (rather than yields or stays silent) within `ms`. */
  async ends(ms: number): Promise<boolean> {
    const message = await this.next(ms);
    return message === undefined && this.done;
  }
}

/**
 * Opens transports for the case that calls it and closes them when that case ends, so that cases
 * may run side by side (see the stress mode).
 */
export class Peers {
  /** @param closeMs how long closing one may take (a Kafka consumer leaves its group) */
  constructor(
    readonly connect: () => Promise<Transport>,
    readonly closeMs = 10_000,
  ) {}

  async one(): Promise<Transport> {
    const transport = await this.connect();
    onCaseFinished(() => transport.close(), this.closeMs);
    return transport;
  }

  async many(count: number): Promise<Transport[]> {
    const all: Transport[] = [];
    for (let i = 0; i < count; i++) all.push(await this.one());
    return all;
  }
}

/** Whether something accepts a TCP connection at host:port within `ms`. */
export function reachable(host: string, port: number, ms = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Checks that a server the tests need answers. Returns undefined when it does, else a reason to
 * skip; when MSG_REQUIRE_BROKERS=1 (as in CI) a missing server throws instead, failing the run.
 */
export async function checkBroker(what: string, host: string, port: number): Promise<string | undefined> {
  if (await reachable(host, port)) return undefined;
  const reason = `${what} is not reachable at ${host}:${port}; start it with \`pnpm brokers up\``;
  if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${reason} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
  console.warn(`\n*** SKIPPING: ${reason} ***\n`);
  return reason;
}

/** Records a transport's status events, for fault tests that check what a user watching it saw. */
export class StatusLog {
  readonly events: StatusEvent[] = [];
  readonly #stream;

  constructor(transport: Transport) {
    this.#stream = transport.status({ handler: (event) => this.events.push(event) });
  }

  /** The event types in order, each run of one type collapsed: `disconnected, reconnecting, reconnected`. */
  types(connection?: string): string[] {
    const types: string[] = [];
    for (const event of this.events) {
      if (connection !== undefined && event.connection !== connection) continue;
      if (types.at(-1) !== event.type) types.push(event.type);
    }
    return types;
  }

  /**
   * Whether some connection went disconnected → reconnecting → reconnected, in that order (other
   * events, and other connections' events, may come between).
   */
  recovered(): boolean {
    const connections = new Set(this.events.map((event) => event.connection));
    return [...connections].some((connection) => {
      const order = ['disconnected', 'reconnecting', 'reconnected'];
      let next = 0;
      for (const event of this.events) {
        if (event.connection === connection && event.type === order[next]) next++;
        if (next === order.length) return true;
      }
      return false;
    });
  }

  stop(): void {
    this.#stream.stop();
  }
}

/**
 * Everything an error would show anyone: the message, stack and JSON of it and of each of its
 * causes, for a test that checks that a secret appears in none of them.
 */
export function everythingShown(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(String(e), (e as Error).stack ?? '', JSON.stringify(e) ?? '');
  }
  return parts.join('\n');
}
