// Plain `net` sockets with length-prefixed frames: what Node itself moves over loopback, the limit
// every other result is shown against. Requests are answered in order on a connection, so replies
// are matched first-in first-out with no id.
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { once } from 'node:events';
import { FrameReader, FrameWriter } from './frames.js';
import type { Driver, Link } from './driver.js';
import { Fifo } from './fifo.js';

function parse(address: string | undefined): { host: string; port: number } {
  const match = /^([\d.]+):(\d+)$/.exec(address ?? '');
  if (!match) throw new Error(`tcp: bad address ${address}`);
  return { host: match[1]!, port: Number(match[2]) };
}

class TcpLink implements Link {
  address?: string;
  #server?: Server;
  #socket?: Socket;
  #writer?: FrameWriter;
  readonly #accepted = new Set<Socket>();
  readonly #pending = new Fifo<(reply: Uint8Array) => void>();

  static async bind(): Promise<TcpLink> {
    const link = new TcpLink();
    const server = createServer({ noDelay: true });
    link.#server = server;
    server.on('connection', (socket) => {
      link.#accepted.add(socket);
      socket.on('close', () => link.#accepted.delete(socket));
      socket.on('error', () => socket.destroy());
      link.#onAccepted?.(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const bound = server.address();
    if (!bound || typeof bound === 'string') throw new Error('tcp: no address');
    link.address = `127.0.0.1:${bound.port}`;
    return link;
  }

  static async connect(address: string | undefined): Promise<TcpLink> {
    const link = new TcpLink();
    const socket = createConnection({ ...parse(address), noDelay: true });
    await once(socket, 'connect');
    socket.on('error', () => socket.destroy());
    const reader = new FrameReader((body) => link.#pending.shift()?.(body));
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('close', () => {
      for (let resolve = link.#pending.shift(); resolve; resolve = link.#pending.shift()) resolve(new Uint8Array(0));
    });
    link.#socket = socket;
    link.#writer = new FrameWriter(socket);
    return link;
  }

  #onAccepted?: (socket: Socket) => void;

  publish(_topic: string, data: Uint8Array): Promise<void> | void {
    const socket = this.#socket;
    if (!socket || !this.#writer) throw new Error('tcp: publish on a bound link');
    if (!this.#writer.write(data)) return once(socket, 'drain').then(() => undefined);
  }

  async subscribe(_topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    this.#onAccepted = (socket) => {
      const reader = new FrameReader(onMessage);
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
    };
  }

  async serve(): Promise<void> {
    this.#onAccepted = (socket) => {
      const writer = new FrameWriter(socket);
      const reader = new FrameReader((body) => writer.write(body));
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
    };
  }

  request(_service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const socket = this.#socket;
    const writer = this.#writer;
    if (!socket || !writer || socket.destroyed) return Promise.reject(new Error('tcp: not connected'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcp: no reply within ${timeoutMs} ms`)), timeoutMs);
      this.#pending.push((reply) => {
        clearTimeout(timer);
        if (reply.byteLength === 0) reject(new Error('tcp: connection closed'));
        else resolve(reply);
      });
      writer.write(data);
    });
  }

  async close(): Promise<void> {
    this.#socket?.destroy();
    for (const socket of this.#accepted) socket.destroy();
    if (this.#server) await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }
}

export const tcpDriver: Driver = {
  open: async (mode, address) => (mode === 'bind' ? TcpLink.bind() : TcpLink.connect(address)),
};
