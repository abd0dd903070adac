// The baseline for the ZeroMQ adapter: zeromq.js directly. PUB/SUB for pubsub; a ROUTER echo server
// and DEALER clients for echo, replies matched in order (one connection answers in order). The
// high-water marks are the adapter's (100,000), not libzmq's 1,000, so neither drops where the other keeps.
import { Dealer, Publisher, Router, Subscriber } from 'zeromq';
import type { Driver, Link } from './driver.js';
import { Fifo } from './fifo.js';

/** zeromq.js allows one send in progress per socket: sends queue behind each other. */
class SerialSend {
  #tail: Promise<void> = Promise.resolve();
  run(send: () => Promise<void>): Promise<void> {
    const next = this.#tail.then(send);
    // The caller of `run` gets the failure; the chain only orders the sends.
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

class ZmqLink implements Link {
  address?: string;
  readonly #mode: 'bind' | 'connect';
  readonly #peer?: string;
  #socket?: Publisher | Subscriber | Router | Dealer;
  readonly #send = new SerialSend();
  readonly #pending = new Fifo<(reply: Uint8Array) => void>();

  constructor(mode: 'bind' | 'connect', peer?: string) {
    this.#mode = mode;
    this.#peer = peer;
  }

  async #attach<S extends Publisher | Subscriber | Router | Dealer>(socket: S): Promise<S> {
    this.#socket = socket;
    if (this.#mode === 'bind') {
      await socket.bind('tcp://127.0.0.1:*');
      this.address = socket.lastEndpoint ?? undefined;
    } else {
      socket.connect(this.#peer ?? '');
    }
    return socket;
  }

  #publisher?: Publisher;
  async publish(topic: string, data: Uint8Array): Promise<void> {
    this.#publisher ??= await this.#attach(new Publisher({ sendHighWaterMark: 100_000 }));
    const publisher = this.#publisher;
    return this.#send.run(() => publisher.send([topic, data]));
  }

  async subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    const socket = new Subscriber({ receiveHighWaterMark: 100_000 });
    socket.subscribe(topic);
    await this.#attach(socket);
    void (async () => {
      for await (const [, data] of socket) if (data) onMessage(data);
    })().catch(() => undefined); // the loop ends with the socket's close
  }

  async serve(): Promise<void> {
    const socket = await this.#attach(new Router());
    void (async () => {
      for await (const [id, data] of socket) if (id && data) await socket.send([id, data]);
    })().catch(() => undefined); // the loop ends with the socket's close
  }

  #dealer?: Dealer;
  async request(_service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!this.#dealer) {
      const dealer = await this.#attach(new Dealer());
      this.#dealer = dealer;
      void (async () => {
        for await (const [reply] of dealer) if (reply) this.#pending.shift()?.(reply);
      })().catch(() => undefined); // the loop ends with the socket's close
    }
    const dealer = this.#dealer;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`zmq: no reply within ${timeoutMs} ms`)), timeoutMs);
      this.#pending.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.#send.run(() => dealer.send(data)).catch(reject);
    });
  }

  async close(): Promise<void> {
    this.#socket?.close();
  }
}

export const rawZmqDriver: Driver = {
  open: async (mode, address) => new ZmqLink(mode, address),
};
