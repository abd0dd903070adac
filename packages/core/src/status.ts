// What happens to a transport's connections when no call is waiting: an adapter reports its client
// library's connection events and its background failures to a StatusFeed, and `transport.status()`
// hands them to whoever watches.

import { InvalidArgumentError, type MsgError } from './errors.js';

export type StatusEvent =
  /** A connection of this transport is up for the first time (one opened after connect, say). */
  | { readonly type: 'connected'; readonly connection: string }
  /** A connection was lost; `error` says why. Calls that need it fail with ConnectionError until it is back. */
  | { readonly type: 'disconnected'; readonly connection: string; readonly error: MsgError }
  /** The client tries again: `attempt` counts from 1 since the loss, after `delayMs` (0 when not known). */
  | { readonly type: 'reconnecting'; readonly connection: string; readonly attempt: number; readonly delayMs: number }
  /** The connection is back; subscriptions are resumed. */
  | { readonly type: 'reconnected'; readonly connection: string }
  /** A failure no caller waits for: a failed ack, a consumer loop that died, a bad frame from a peer. */
  | { readonly type: 'error'; readonly connection: string; readonly error: MsgError };

export type StatusListener = (event: StatusEvent) => void;

/** Events kept for an iterator that is behind; past it the oldest are dropped and counted. */
export const STATUS_BUFFER = 1000;

/**
 * The adapter's side: it emits, the core's `status()` listens. Events that nobody watches are not
 * kept, but the first failure (disconnected or error) of a feed nobody watches is printed, so that
 * a background fault is never silent.
 */
export class StatusFeed {
  readonly #listeners = new Set<StatusListener>();
  #printed = false;

  /** @param transport the adapter's name, for the printed line */
  constructor(readonly transport: string) {}

  emit(event: StatusEvent): void {
    if (this.#listeners.size === 0) {
      this.#printUnwatched(event);
      return;
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A listener that throws must not stop the adapter's event handler (or the others).
        console.error(`@msg/core: a status listener of the ${this.transport} transport threw:`, error);
      }
    }
  }

  /** Reports a background failure of `connection`. */
  error(connection: string, error: MsgError): void {
    this.emit({ type: 'error', connection, error });
  }

  listen(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #printUnwatched(event: StatusEvent): void {
    if (this.#printed || (event.type !== 'error' && event.type !== 'disconnected')) return;
    this.#printed = true;
    const what = event.type === 'error' ? 'a background failure' : 'a lost connection';
    console.warn(
      `@msg/core: ${what} in the ${this.transport} transport (${event.connection}): ${event.error.message} ` +
        '(printed once; watch transport.status() to see each)',
    );
  }
}

export interface StatusOptions {
  /** Callback form: each event is passed to `handler` as it happens, and the stream is not iterable. */
  handler?: StatusListener;
  /** Aborting stops watching, as `stop()` does. */
  signal?: AbortSignal;
}

/** Events from the moment `status()` was called until `stop()`, the signal, or close. */
export interface StatusStream extends AsyncIterable<StatusEvent> {
  /** Events an iterator that fell more than STATUS_BUFFER behind lost (the oldest go first). */
  readonly dropped: number;
  /** Stops watching and ends the iteration. Idempotent. */
  stop(): void;
}

/** One watcher of a feed: a bounded buffer for the iterator form, or a straight call for a handler. */
export function watchStatus(feed: StatusFeed, options: StatusOptions, onStop: (stop: () => void) => () => void): StatusStream {
  const buffer: StatusEvent[] = [];
  let waiter: ((result: IteratorResult<StatusEvent>) => void) | undefined;
  let dropped = 0;
  let stopped = false;
  const handler = options.handler;
  const unlisten = feed.listen((event) => {
    if (handler) return handler(event);
    if (waiter) {
      const wake = waiter;
      waiter = undefined;
      return wake({ value: event, done: false });
    }
    if (buffer.length >= STATUS_BUFFER) {
      buffer.shift();
      dropped++;
    }
    buffer.push(event);
  });
  const stop = () => {
    if (stopped) return;
    stopped = true;
    unlisten();
    forget();
    options.signal?.removeEventListener('abort', stop);
    waiter?.({ value: undefined, done: true });
    waiter = undefined;
  };
  const forget = onStop(stop);
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener('abort', stop, { once: true });
  return {
    get dropped() {
      return dropped;
    },
    stop,
    [Symbol.asyncIterator](): AsyncIterator<StatusEvent> {
      if (handler) throw new InvalidArgumentError('a status stream with a handler is not iterable');
      return {
        next: () => {
          const event = buffer.shift();
          if (event) return Promise.resolve({ value: event, done: false });
          if (stopped) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => (waiter = resolve));
        },
        return: () => {
          stop();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}
