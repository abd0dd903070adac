// What one TCP peer can make a binding socket hold. libzmq hands a multipart message to the socket only
// once its last part has arrived, and until then keeps every part in that connection's pipe, where no
// option bounds it: ZMQ_MAXMSGSIZE limits one frame, the high-water marks count whole messages. So a
// binding socket listens on a private endpoint, and the TCP endpoint peers reach is a relay here that
// reads the ZMTP frame headers as the bytes pass and cuts off a peer whose message grows past the limits.

import { mkdtempSync, rmSync } from 'node:fs';
import { type NetConnectOpts, type Server, type Socket as TcpSocket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadFrameError, ConnectionError, type MsgError } from '@msg/core';
import type { Socket } from 'zeromq';

export interface MessageLimits {
  /** Most parts (frames) one message may have. */
  readonly maxParts: number;
  /** Most bytes all parts of one message may carry together. */
  readonly maxBytes: number;
}

/** The guard of one transport: its limits, the peers it cut off, and the relays of its binding sockets. */
export class Guard {
  readonly limits: MessageLimits;
  /** Guard loopback binds too; otherwise only processes of this host could send, and they go unguarded. */
  readonly everywhere: boolean;
  /** Peers cut off so far: past a limit, or not speaking ZMTP 2.0 or 3.x at all. */
  dropped = 0;
  readonly #report: (error: MsgError) => void;
  #relays = new Map<Socket, Relay[]>();
  #directory: string | undefined;
  #inner = 0;

  constructor(limits: MessageLimits, report: (error: MsgError) => void, everywhere = true) {
    this.limits = limits;
    this.everywhere = everywhere;
    this.#report = report;
  }

  /** Whether a bind to the TCP `endpoint` goes through a relay. */
  covers(endpoint: string): boolean {
    return this.everywhere || !isLoopback(tcpAddress(endpoint).host);
  }

  /**
   * Binds `socket` to the TCP `endpoint` (`tcp://HOST:PORT`, port `*` for an ephemeral one) through a
   * relay, and returns the address peers connect to.
   */
  async bind(socket: Socket, endpoint: string): Promise<string> {
    const { host, port } = tcpAddress(endpoint);
    const innerPath = this.#innerPath();
    const inner = innerPath === undefined ? 'tcp://127.0.0.1:*' : `ipc://${innerPath}`;
    const server = createServer({ noDelay: true });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      throw new ConnectionError(`zmq: cannot bind ${endpoint}: ${describe(error)}`, { cause: error });
    }
    let target: NetConnectOpts;
    try {
      await socket.bind(inner);
      target = typeof innerPath === 'string' ? { path: innerPath } : { host: '127.0.0.1', port: Number(socket.lastEndpoint?.split(':').pop()) };
    } catch (error) {
      server.close();
      throw new ConnectionError(`zmq: cannot bind ${endpoint} (its private endpoint ${inner}): ${(error as Error).message}`, { cause: error });
    }
    const relay = new Relay(server, target, this, endpoint);
    const relays = this.#relays.get(socket);
    if (relays) relays.push(relay);
    else this.#relays.set(socket, [relay]);
    return relay.endpoint;
  }

  /** Stops accepting peers for `socket`; connections that are open end when libzmq ends them. */
  release(socket: Socket): void {
    for (const relay of this.#relays.get(socket) ?? []) relay.close();
    this.#relays.delete(socket);
  }

  report(error: MsgError): void {
    this.#report(error);
  }

  /** Counts and reports a peer cut off. */
  drop(peer: TcpSocket, endpoint: string, reason: string): void {
    this.dropped++;
    this.#report(new BadFrameError(`zmq: cut off the peer ${peer.remoteAddress}:${peer.remotePort} of ${endpoint}: ${reason}`));
  }

  /** After every socket is closed: removes the directory of the private endpoints. */
  close(): void {
    for (const socket of [...this.#relays.keys()]) this.release(socket);
    if (this.#directory) rmSync(this.#directory, { recursive: true, force: true });
    this.#directory = undefined;
  }

  // An IPC socket in a directory only this user can enter, so that no other local user gets around
  // the relay; loopback TCP (undefined here) where libzmq has no IPC.
  #innerPath(): string | undefined {
    if (process.platform === 'win32') return undefined;
    this.#directory ??= mkdtempSync(join(tmpdir(), 'msg-zmq-'));
    return join(this.#directory, `${++this.#inner}.sock`);
  }
}

const CLOSING_PEER_TIMEOUT_MS = 2000;

/** One public TCP endpoint in front of one private endpoint of a socket. */
class Relay {
  readonly endpoint: string;
  #server: Server;
  /** Each peer connected, with the connection to the socket's private endpoint it is relayed to. */
  #open = new Map<TcpSocket, TcpSocket>();

  constructor(server: Server, inner: NetConnectOpts, guard: Guard, requested: string) {
    this.#server = server;
    const address = server.address();
    const bound = typeof address === 'object' && address ? address : { address: '127.0.0.1', port: 0 };
    const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
    this.endpoint = `tcp://${host}:${bound.port}`;
    server.on('connection', (peer) => this.#accept(peer, inner, guard, requested));
    // Past listening, only accepting fails (out of file descriptors): the peer is refused, we go on.
    server.on('error', (error) => guard.report(new ConnectionError(`zmq: ${this.endpoint} could not accept a peer: ${error.message}`, { cause: error })));
  }

  #accept(peer: TcpSocket, inner: NetConnectOpts, guard: Guard, requested: string): void {
    const socket = connect(inner);
    this.#open.set(peer, socket);
    const frames = new FrameReader(guard.limits);
    peer.setNoDelay(true);
    socket.setNoDelay(true);
    peer.on('data', (chunk: Buffer) => {
      // Once the socket is closing it reads nothing more (see close).
      if (!this.#open.has(peer)) return;
      const violation = frames.read(chunk);
      if (violation) {
        guard.drop(peer, requested, violation);
        peer.destroy();
        socket.destroy();
        return;
      }
      if (!socket.write(chunk)) peer.pause();
    });
    socket.on('drain', () => peer.resume());
    // libzmq's side flows back as it is; pipe pauses libzmq's connection while the peer reads slowly.
    socket.pipe(peer);
    // A peer that ends after sending has its last bytes delivered, as a direct connection would.
    peer.on('end', () => socket.end());
    peer.on('close', (hadError) => {
      this.#open.delete(peer);
      if (hadError) socket.destroy();
      else socket.end();
    });
    peer.on('error', () => undefined);
    // What libzmq sent before it closed still reaches the peer; one that does not read is not waited for.
    socket.on('close', () => {
      this.#open.delete(peer);
      peer.end();
      peer.setTimeout(CLOSING_PEER_TIMEOUT_MS, () => peer.destroy());
    });
    socket.on('error', () => undefined);
  }

  /**
   * Stops accepting, and stops passing on what peers send: the socket is about to close and reads
   * nothing more. A write to it after libzmq closed the connection would fail, and Node destroys a
   * socket whose write fails, throwing away what libzmq sent before it closed (a publisher's last
   * messages and its goodbye). What the socket sends meanwhile, within its linger, still flows.
   */
  close(): void {
    this.#server.close();
    for (const peer of this.#open.keys()) peer.resume();
    this.#open.clear();
  }
}

const enum Phase {
  /** The signature and the version, which says how long the rest of the greeting is. */
  Signature,
  /** The rest of the greeting, skipped. */
  Greeting,
  /** A frame's flags byte. */
  Flags,
  /** A frame's size: one byte, or eight for a long frame. */
  Size,
  /** A frame's body, skipped. */
  Body,
}

const MORE = 0x01;
const LONG = 0x02;
const COMMAND = 0x04;
const SIGNATURE_AND_VERSION = 11;
const ZMTP3_GREETING = 64;
const ZMTP2_GREETING = 12;

/**
 * Follows one peer's ZMTP 2.0 or 3.x stream (RFC 15, 23, 37) through its frame headers and counts the
 * parts and bytes of the message under way. ZMTP 1.0 (libzmq 2.x) is not followed: such a peer is cut off.
 */
export class FrameReader {
  #limits: MessageLimits;
  #phase = Phase.Signature;
  /** Bytes still to read in this phase. */
  #left = SIGNATURE_AND_VERSION;
  #field = Buffer.alloc(SIGNATURE_AND_VERSION);
  #have = 0;
  #flags = 0;
  #zmtp3 = false;
  #parts = 0;
  #bytes = 0;

  constructor(limits: MessageLimits) {
    this.#limits = limits;
  }

  /** Reads the next bytes of the stream; returns why the peer must be cut off, or undefined. */
  read(chunk: Buffer): string | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (this.#phase === Phase.Body || this.#phase === Phase.Greeting) {
        const skip = Math.min(this.#left, chunk.length - at);
        at += skip;
        this.#left -= skip;
        if (this.#left === 0) this.#expect(Phase.Flags, 1);
        continue;
      }
      if (this.#phase === Phase.Flags) {
        this.#flags = chunk[at++] ?? 0;
        this.#expect(Phase.Size, this.#flags & LONG ? 8 : 1);
        continue;
      }
      const take = Math.min(this.#left, chunk.length - at);
      chunk.copy(this.#field, this.#have, at, at + take);
      at += take;
      this.#have += take;
      this.#left -= take;
      if (this.#left > 0) continue;
      const problem = this.#phase === Phase.Signature ? this.#greeting() : this.#frame();
      if (problem) return problem;
    }
    return undefined;
  }

  #expect(phase: Phase, bytes: number): void {
    this.#phase = phase;
    this.#left = bytes;
    this.#have = 0;
  }

  #greeting(): string | undefined {
    const field = this.#field;
    if (field[0] !== 0xff || ((field[9] ?? 0) & 0x01) === 0) return 'it does not speak ZMTP 2.0 or later';
    const version = field[10] ?? 0;
    if (version !== 1 && version < 3) return `it speaks an unknown ZMTP revision ${version}`;
    this.#zmtp3 = version >= 3;
    this.#expect(Phase.Greeting, (this.#zmtp3 ? ZMTP3_GREETING : ZMTP2_GREETING) - SIGNATURE_AND_VERSION);
    return undefined;
  }

  #frame(): string | undefined {
    const long = (this.#flags & LONG) !== 0;
    const high = long ? this.#field.readUInt32BE(0) : 0;
    const size = long ? high * 2 ** 32 + this.#field.readUInt32BE(4) : (this.#field[0] ?? 0);
    const { maxParts, maxBytes } = this.#limits;
    if (size > maxBytes) return `a frame larger than the ${maxBytes} bytes a message may carry`;
    // ZMTP 3.x commands (handshake, heartbeats, subscriptions) are no part of a message; in 2.0 the
    // bit means nothing, and libzmq takes such a frame as data.
    if (!(this.#zmtp3 && this.#flags & COMMAND)) {
      this.#parts++;
      this.#bytes += size;
      if (this.#parts > maxParts) return `a message of more than ${maxParts} parts`;
      if (this.#bytes > maxBytes) return `a message of more than ${maxBytes} bytes`;
      if (!(this.#flags & MORE)) this.#parts = this.#bytes = 0;
    }
    if (size === 0) this.#expect(Phase.Flags, 1);
    else this.#expect(Phase.Body, size);
    return undefined;
  }
}

/** `tcp://HOST:PORT` as Node listens on it: `*` for every interface, brackets off IPv6, `*` port as 0. */
/** 127.0.0.0/8, ::1 and localhost; a wildcard (no host, `0.0.0.0`, `::`) is every interface, so not loopback. */
export function isLoopback(host: string | undefined): boolean {
  return host !== undefined && (/^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost');
}

function tcpAddress(endpoint: string): { host: string | undefined; port: number } {
  const rest = endpoint.slice('tcp://'.length);
  const colon = rest.lastIndexOf(':');
  const host = colon < 0 ? rest : rest.slice(0, colon);
  const port = colon < 0 ? '*' : rest.slice(colon + 1);
  return { host: host === '*' ? undefined : host.replace(/^\[(.*)\]$/, '$1'), port: port === '*' ? 0 : Number(port) };
}

const NODE_ERRORS: Record<string, string> = {
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EACCES: 'Permission denied',
};

/** Node's error as libzmq would word it, so that both kinds of endpoint fail alike. */
function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  return (code && NODE_ERRORS[code]) ?? (error as Error).message;
}
