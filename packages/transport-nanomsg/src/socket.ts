// One nanomsg socket: endpoints, options, non-blocking send and receive, and a poll that tells us
// when to read. Every addon error becomes a ConnectionError naming what failed.

import { BadFrameError, ConnectionError, PayloadTooLargeError, type StatusFeed } from '@msg/core';
import { type PollHandle, nn } from './native.js';

export type Protocol = 'req' | 'rep' | 'pub' | 'sub' | 'surveyor' | 'respondent' | 'bus' | 'push' | 'pull' | 'pair';

const protocols: Record<Protocol, number> = {
  req: nn.NN_REQ,
  rep: nn.NN_REP,
  pub: nn.NN_PUB,
  sub: nn.NN_SUB,
  surveyor: nn.NN_SURVEYOR,
  respondent: nn.NN_RESPONDENT,
  bus: nn.NN_BUS,
  push: nn.NN_PUSH,
  pull: nn.NN_PULL,
  pair: nn.NN_PAIR,
};

export interface SocketSettings {
  /** Largest frame this socket accepts; a peer sending more is disconnected by nanomsg. */
  maxFrame: number;
  /** Send and receive buffer, in bytes, per socket. */
  bufferBytes: number;
  /** Where frames that do not decode are reported (nanomsg tells nothing of its links). */
  status: StatusFeed;
}

/** Reports a frame that did not decode, received on `socket`; it is dropped, as a lost message would be. */
export function badFrame(settings: SocketSettings, socket: string, error: unknown): void {
  settings.status.error(socket, new BadFrameError(`nanomsg: dropped a frame that is not a valid msg frame on ${socket}: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
}

function failure(what: string): ConnectionError {
  return new ConnectionError(`nanomsg: ${what}: ${nn.Err()}`, { cause: nn.Errno() });
}

export class NanoSocket {
  readonly #fd: number;
  readonly protocol: Protocol;
  #endpoints = new Map<string, number>();
  readonly #maxFrame: number;
  #readPoll: PollHandle | undefined;
  #writePoll: PollHandle | undefined;
  #closed = false;

  constructor(protocol: Protocol, settings: Pick<SocketSettings, 'maxFrame' | 'bufferBytes'>) {
    this.protocol = protocol;
    this.#maxFrame = settings.maxFrame;
    this.#fd = nn.Socket(nn.AF_SP, protocols[protocol]);
    if (this.#fd < 0) throw failure(`cannot create a ${protocol} socket`);
    // Latency matters more than the few bytes Nagle would save: frames are already whole messages.
    this.#option(nn.NN_TCP, nn.NN_TCP_NODELAY, 1);
    this.#option(nn.NN_SOL_SOCKET, nn.NN_RCVMAXSIZE, settings.maxFrame);
    this.#option(nn.NN_SOL_SOCKET, nn.NN_SNDBUF, settings.bufferBytes);
    this.#option(nn.NN_SOL_SOCKET, nn.NN_RCVBUF, settings.bufferBytes);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #option(level: number, option: number, value: number): void {
    if (nn.Setopt(this.#fd, level, option, value) < 0) throw failure(`cannot set option ${option} on a ${this.protocol} socket`);
  }

  /** A protocol option such as the survey deadline (`level` is the protocol number). */
  setOption(option: number, value: number): void {
    this.#option(protocols[this.protocol], option, value);
  }

  /**
   * nanomsg reaches IPv6 only with NN_IPV4ONLY off, and 1.1.5 aborts the process on an IPv4 TCP
   * endpoint when it is off: so it is turned off only for a socket given an IPv6 endpoint.
   */
  #allowIpv6(endpoint: string): void {
    if (endpoint.startsWith('tcp://[')) this.#option(nn.NN_SOL_SOCKET, nn.NN_IPV4ONLY, 0);
  }

  bind(endpoint: string): void {
    this.#allowIpv6(endpoint);
    const id = nn.Bind(this.#fd, endpoint);
    if (id < 0) throw failure(`cannot bind ${endpoint}`);
    this.#endpoints.set(endpoint, id);
  }

  /** Idempotent: a socket connects to an endpoint once; nanomsg reconnects by itself. */
  connect(endpoint: string): void {
    if (this.#endpoints.has(endpoint)) return;
    this.#allowIpv6(endpoint);
    const id = nn.Connect(this.#fd, endpoint);
    if (id < 0) throw failure(`cannot connect to ${endpoint}`);
    this.#endpoints.set(endpoint, id);
  }

  disconnect(endpoint: string): void {
    const id = this.#endpoints.get(endpoint);
    if (id === undefined || this.#closed) return;
    this.#endpoints.delete(endpoint);
    nn.Shutdown(this.#fd, id);
  }

  has(endpoint: string): boolean {
    return this.#endpoints.has(endpoint);
  }

  subscribe(prefix: string): void {
    if (nn.Chan(this.#fd, nn.NN_SUB_SUBSCRIBE, prefix) < 0) throw failure(`cannot subscribe to ${JSON.stringify(prefix)}`);
  }

  unsubscribe(prefix: string): void {
    if (!this.#closed) nn.Chan(this.#fd, nn.NN_SUB_UNSUBSCRIBE, prefix);
  }

  /** False when nanomsg cannot take the frame now (no peer, or its buffer is full). */
  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    // The payload was checked by the core; this catches headers so large that no peer would accept the frame.
    if (frame.length > this.#maxFrame) throw new PayloadTooLargeError(frame.length, this.#maxFrame);
    if (nn.Send(this.#fd, frame, nn.NN_DONTWAIT) >= 0) return true;
    if (nn.Errno() === nn.EAGAIN) return false;
    throw failure(`cannot send on a ${this.protocol} socket`);
  }

  /** The next frame, or undefined when none is waiting (see `lastError` for why). */
  receive(): Buffer | undefined {
    if (this.#closed) return undefined;
    const frame = nn.Recv(this.#fd, nn.NN_DONTWAIT);
    return typeof frame === 'number' ? undefined : frame;
  }

  /** The errno of the last failed call, e.g. ETIMEDOUT when a survey's deadline passed. */
  lastError(): number {
    return nn.Errno();
  }

  /** Calls `onReadable` while frames are waiting, until `pause`. Idempotent. */
  listen(onReadable: () => void): void {
    if (this.#readPoll || this.#closed) return;
    this.#readPoll = nn.PollSocket(this.#fd, false, onReadable);
  }

  /** Calls `onWritable` once a frame can be sent. */
  whenWritable(onWritable: () => void): void {
    if (this.#writePoll || this.#closed) return;
    this.#writePoll = nn.PollSocket(this.#fd, true, () => {
      this.#stopWriting();
      onWritable();
    });
  }

  /** Stops calling the `listen` callback. */
  pause(): void {
    if (!this.#readPoll) return;
    nn.PollStop(this.#readPoll);
    this.#readPoll = undefined;
  }

  #stopWriting(): void {
    if (!this.#writePoll) return;
    nn.PollStop(this.#writePoll);
    this.#writePoll = undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.pause();
    this.#stopWriting();
    this.#closed = true;
    nn.Close(this.#fd);
  }
}
