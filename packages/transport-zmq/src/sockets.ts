// How every socket of this transport is set up (limits, security, linger), where it binds, and how it
// sends.

import { ConnectionError, type StatusFeed } from '@msg/core';
import { type Readable, type Socket, type Writable, curveKeyPair } from 'zeromq';
import type { Guard } from './guard.js';
import type { Frame } from './wire.js';

export interface CurveKeys {
  /** Z85 public key of the network: every connecting socket checks the servers it reaches against it. */
  publicKey: string;
  /** Z85 secret key of the network: every binding socket proves it holds it. */
  secretKey: string;
}

export interface SocketSettings {
  readonly highWaterMark: number;
  readonly linger: number;
  /** Largest frame a receiving socket accepts; a peer that sends more is disconnected. */
  readonly maxFrame: number;
  readonly curve: CurveKeys | undefined;
  /** This transport's own client key pair, used when it connects to a CURVE server. */
  readonly clientKeys: { publicKey: string; secretKey: string } | undefined;
  /** What one TCP peer may make a binding socket hold (see guard.ts); none with `guard: false`. */
  readonly guard: Guard | undefined;
  /** Where links to peers report their losses and reconnects. */
  readonly status: StatusFeed;
}

export function socketSettings(options: {
  highWaterMark: number;
  linger: number;
  maxFrame: number;
  curve: CurveKeys | undefined;
  guard: Guard | undefined;
  status: StatusFeed;
}): SocketSettings {
  return { ...options, clientKeys: options.curve ? curveKeyPair() : undefined };
}

function configure(socket: Socket, settings: SocketSettings): void {
  socket.ipv6 = true;
  socket.linger = settings.linger;
  if ('sendHighWaterMark' in socket) (socket as Socket & Writable).sendHighWaterMark = settings.highWaterMark;
  if ('receiveHighWaterMark' in socket) (socket as Socket & Readable).receiveHighWaterMark = settings.highWaterMark;
  socket.maxMessageSize = settings.maxFrame;
  // Never block a send (see send below): a PUB and a ROUTER drop anyway, a DEALER refuses at once.
  if ('sendTimeout' in socket) (socket as Socket & Writable).sendTimeout = 0;
}

/** A socket that binds: with CURVE it is a server holding the network's secret key. */
export function forBinding<S extends Socket>(socket: S, settings: SocketSettings): S {
  configure(socket, settings);
  if (settings.curve) {
    socket.curveServer = true;
    socket.curveSecretKey = settings.curve.secretKey;
    socket.curvePublicKey = settings.curve.publicKey;
  }
  return socket;
}

/** A socket that connects: with CURVE it talks only to servers that hold the network's secret key. */
export function forConnecting<S extends Socket>(socket: S, settings: SocketSettings): S {
  configure(socket, settings);
  if (settings.curve && settings.clientKeys) {
    socket.curveServerKey = settings.curve.publicKey;
    socket.curvePublicKey = settings.clientKeys.publicKey;
    socket.curveSecretKey = settings.clientKeys.secretKey;
  }
  return socket;
}

let endpointCounter = 0;

/**
 * Binds `socket` to `endpoint` when it names one exactly, or else to a fresh endpoint under the base
 * (`tcp://host` gets an ephemeral port, `ipc://dir` and `inproc://name` a unique suffix), and
 * returns the address peers connect to. A TCP endpoint is the guard's relay in front of the socket,
 * unless CURVE hides the frames from it (see guard.ts); close the socket with closeBinding.
 */
export async function bindTo(socket: Socket, settings: SocketSettings, base: string, exact?: string): Promise<string> {
  const endpoint = exact ?? freshEndpoint(base);
  if (endpoint.startsWith('tcp://') && !settings.curve && settings.guard?.covers(endpoint)) return settings.guard.bind(socket, endpoint);
  try {
    await socket.bind(endpoint);
  } catch (error) {
    throw new ConnectionError(`zmq: cannot bind ${endpoint}: ${(error as Error).message}`, { cause: error });
  }
  return socket.lastEndpoint ?? endpoint;
}

/** Closes a socket that bindTo bound, and the relays in front of it. */
export function closeBinding(socket: Socket, settings: SocketSettings): void {
  settings.guard?.release(socket);
  socket.close();
}

function freshEndpoint(base: string): string {
  endpointCounter++;
  const unique = `msg-${process.pid}-${endpointCounter}`;
  if (base.startsWith('tcp://')) return `${base.replace(/:\d+$/, '')}:*`;
  if (base.startsWith('ipc://')) return `${base.replace(/\/+$/, '')}/${unique}.sock`;
  if (base.startsWith('inproc://')) return `${base}-${unique}`;
  return base;
}

/**
 * Sends without waiting: every socket here has a send timeout of 0, so libzmq queues the frames at once
 * or refuses them (EAGAIN at the high-water mark), and no send ever blocks the next one. A socket
 * closed meanwhile rejects instead of throwing.
 */
export function send(socket: Socket & Writable, frames: Frame[]): Promise<void> {
  try {
    return socket.send(frames);
  } catch (error) {
    return Promise.reject(error);
  }
}

export type { Frame } from './wire.js';
