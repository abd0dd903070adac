// PIPELINE (push/pull) and PAIR: nanomsg patterns beyond the Transport's four, offered as plain
// byte channels because their users expect them. Frames are the bytes as sent, with no envelope, so
// any native PUSH, PULL or PAIR peer interoperates. PUSH and PAIR wait for a peer that can take the
// frame; a puller that falls behind stops reading, which makes nanomsg hold back its pushers.

import { ClosedError } from '@msg/core';
import { NanoSocket } from './socket.js';

export interface ChannelOptions {
  /** Endpoints to listen on, e.g. `tcp://127.0.0.1:5555`, `ipc:///tmp/jobs.ipc`. */
  bind?: string[];
  /** Endpoints to connect to; nanomsg reconnects by itself when a peer goes away. */
  connect?: string[];
  /** Largest frame accepted, in bytes. Default 8 MiB. */
  maxFrame?: number;
  /** Frames held for a slow reader before the socket stops reading. Default 1,000. */
  highWater?: number;
}

/** Sends frames to one of its connected pullers, in turn. */
export interface Pusher {
  /** Resolves once nanomsg took the frame (a puller was connected and had room). */
  send(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Receives the frames its pushers send. */
export interface Puller extends AsyncIterable<Uint8Array> {
  close(): Promise<void>;
}

/** One peer to one peer, both ways. */
export interface Pair extends Pusher, Puller {}

const DEFAULT_MAX_FRAME = 8 * 1024 * 1024;

class Channel implements Pair {
  readonly #socket: NanoSocket;
  readonly #highWater: number;
  readonly #outbox: { data: Uint8Array; resolve: () => void; reject: (error: unknown) => void }[] = [];
  readonly #inbox: Uint8Array[] = [];
  #waiter: ((result: IteratorResult<Uint8Array>) => void) | undefined;
  #closed = false;

  constructor(protocol: 'push' | 'pull' | 'pair', options: ChannelOptions) {
    const maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.#highWater = options.highWater ?? 1000;
    this.#socket = new NanoSocket(protocol, { maxFrame, bufferBytes: 128 * 1024 });
    try {
      for (const endpoint of options.bind ?? []) this.#socket.bind(endpoint);
      for (const endpoint of options.connect ?? []) this.#socket.connect(endpoint);
    } catch (error) {
      this.#socket.close();
      throw error;
    }
    if (protocol !== 'push') this.#read();
  }

  send(data: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('this nanomsg channel is closed'));
    return new Promise((resolve, reject) => {
      this.#outbox.push({ data, resolve, reject });
      if (this.#outbox.length === 1) this.#flush();
    });
  }

  #flush(): void {
    while (this.#outbox.length > 0) {
      const next = this.#outbox[0]!;
      let sent: boolean;
      try {
        sent = this.#socket.send(next.data);
      } catch (error) {
        this.#outbox.shift();
        next.reject(error);
        continue;
      }
      if (!sent) return this.#socket.whenWritable(() => this.#flush());
      this.#outbox.shift();
      next.resolve();
    }
  }

  #read(): void {
    this.#socket.listen(() => {
      while (this.#inbox.length < this.#highWater) {
        const frame = this.#socket.receive();
        if (!frame) return;
        const waiter = this.#waiter;
        this.#waiter = undefined;
        if (waiter) waiter({ value: frame, done: false });
        else this.#inbox.push(frame);
      }
      this.#socket.pause(); // full: let nanomsg's buffers, then the pushers, hold the rest
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => {
        const frame = this.#inbox.shift();
        if (frame) {
          if (!this.#closed) this.#read();
          return Promise.resolve({ value: frame, done: false });
        }
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiter = resolve));
      },
      return: async () => ({ value: undefined, done: true }),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    for (const pending of this.#outbox.splice(0)) pending.reject(new ClosedError('the channel closed before the frame was sent'));
    this.#waiter?.({ value: undefined, done: true });
    this.#waiter = undefined;
  }
}

export function createPusher(options: ChannelOptions): Pusher {
  return new Channel('push', options);
}

export function createPuller(options: ChannelOptions): Puller {
  return new Channel('pull', options);
}

export function createPair(options: ChannelOptions): Pair {
  return new Channel('pair', options);
}
