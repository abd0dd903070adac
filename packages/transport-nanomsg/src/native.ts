// The parts of the `nanomsg` addon this adapter uses, typed. We call the addon's functions directly
// rather than its Duplex stream wrapper, so a message costs one nn_recv and no stream bookkeeping.

import { createRequire } from 'node:module';

/** An opaque poll registration returned by PollSocket. */
export type PollHandle = { readonly __poll: unique symbol };

export interface Native {
  Socket(domain: number, protocol: number): number;
  Close(socket: number): number;
  Setopt(socket: number, level: number, option: number, value: number): number;
  Chan(socket: number, option: number, prefix: string): number;
  Bind(socket: number, endpoint: string): number;
  Connect(socket: number, endpoint: string): number;
  Shutdown(socket: number, endpointId: number): number;
  Send(socket: number, frame: Uint8Array, flags: number): number;
  /** A Buffer over nanomsg's own memory, or a negative number when nothing was received. */
  Recv(socket: number, flags: number): Buffer | number;
  Errno(): number;
  Err(): string;
  /** Calls `onEvent` whenever the socket can be read (or, with `sending`, written). */
  PollSocket(socket: number, sending: boolean, onEvent: (events: number) => void): PollHandle;
  PollStop(handle: PollHandle): void;

  readonly AF_SP: number;
  readonly NN_REQ: number;
  readonly NN_REP: number;
  readonly NN_PUB: number;
  readonly NN_SUB: number;
  readonly NN_SURVEYOR: number;
  readonly NN_RESPONDENT: number;
  readonly NN_BUS: number;
  readonly NN_PUSH: number;
  readonly NN_PULL: number;
  readonly NN_PAIR: number;
  readonly NN_SOL_SOCKET: number;
  readonly NN_TCP: number;
  readonly NN_TCP_NODELAY: number;
  readonly NN_IPV4ONLY: number;
  readonly NN_SNDBUF: number;
  readonly NN_RCVBUF: number;
  readonly NN_RCVMAXSIZE: number;
  readonly NN_REQ_RESEND_IVL: number;
  readonly NN_SURVEYOR_DEADLINE: number;
  readonly NN_SUB_SUBSCRIBE: number;
  readonly NN_SUB_UNSUBSCRIBE: number;
  readonly NN_DONTWAIT: number;
  readonly EAGAIN: number;
  readonly EFSM: number;
  readonly ETIMEDOUT: number;
}

const require = createRequire(import.meta.url);
export const nn = (require('nanomsg') as { _bindings: Native })._bindings;
