// The baseline for the nanomsg adapter: the nanomsg binding directly. PUB/SUB for pubsub; REP server
// and REQ clients for echo (REQ allows one request in flight: the closed loop only).
import { createRequire } from 'node:module';
import type { Driver, Link } from './driver.js';
import { freePort } from './ports.js';

/** The part of the untyped `nanomsg` binding used here. */
interface NanoSocket {
  bind(address: string): number;
  connect(address: string): number;
  send(data: Buffer): number;
  on(event: 'data', listener: (data: Buffer) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  close(): void;
}
interface Nanomsg {
  socket(type: 'pub' | 'sub' | 'req' | 'rep', options?: { tcpnodelay?: boolean; rcvmaxsize?: number }): NanoSocket;
}

const nanomsg = createRequire(import.meta.url)('nanomsg') as Nanomsg;

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

class NanoLink implements Link {
  address?: string;
  readonly #mode: 'bind' | 'connect';
  readonly #peer?: string;
  #socket?: NanoSocket;
  #waiting?: (reply: Uint8Array) => void;

  constructor(mode: 'bind' | 'connect', peer?: string) {
    this.#mode = mode;
    this.#peer = peer;
  }

  async #attach(type: 'pub' | 'sub' | 'req' | 'rep'): Promise<NanoSocket> {
    const socket = nanomsg.socket(type, { tcpnodelay: true, rcvmaxsize: -1 });
    socket.on('error', () => undefined);
    this.#socket = socket;
    if (this.#mode === 'bind') {
      this.address = `tcp://127.0.0.1:${await freePort()}`;
      socket.bind(this.address);
    } else {
      socket.connect(this.#peer ?? '');
    }
    return socket;
  }

  #publisher?: NanoSocket;
  async publish(_topic: string, data: Uint8Array): Promise<void> {
    this.#publisher ??= await this.#attach('pub');
    this.#publisher.send(asBuffer(data));
  }

  async subscribe(_topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    (await this.#attach('sub')).on('data', onMessage);
  }

  async serve(): Promise<void> {
    const socket = await this.#attach('rep');
    socket.on('data', (request) => socket.send(request));
  }

  #requester?: NanoSocket;
  async request(_service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!this.#requester) {
      this.#requester = await this.#attach('req');
      this.#requester.on('data', (reply) => this.#waiting?.(reply));
    }
    if (this.#waiting) throw new Error('nanomsg: REQ allows one request in flight');
    const requester = this.#requester;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(new Error(`nanomsg: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting = (reply) => {
        clearTimeout(timer);
        this.#waiting = undefined;
        resolve(reply);
      };
      requester.send(asBuffer(data));
    });
  }

  async close(): Promise<void> {
    this.#socket?.close();
  }
}

export const rawNanomsgDriver: Driver = {
  open: async (mode, address) => new NanoLink(mode, address),
};
