// The baseline for the Redis adapter: ioredis directly. Pub/sub on a channel; echo as a request
// published on the service channel carrying the client's reply channel, answered in order.
import { Redis } from 'ioredis';
import type { Driver, Link } from './driver.js';
import { Fifo } from './fifo.js';

function client(): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  return redis.connect().then(() => redis);
}

let replyCounter = 0;

class RedisLink implements Link {
  readonly #clients: Redis[] = [];
  readonly #pending = new Fifo<(reply: Uint8Array) => void>();
  #requester?: { pub: Redis; replyTo: Buffer };

  async #client(): Promise<Redis> {
    const redis = await client();
    this.#clients.push(redis);
    return redis;
  }

  #pub?: Redis;
  async publish(topic: string, data: Uint8Array): Promise<void> {
    this.#pub ??= await this.#client();
    await this.#pub.publish(topic, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  async subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    const sub = await this.#client();
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => onMessage(message));
    await sub.subscribe(topic);
  }

  async serve(service: string): Promise<void> {
    const pub = await this.#client();
    const sub = await this.#client();
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
      const length = message.readUInt8(0);
      // A reply lost with the connection is counted by the requester as missing.
      void pub.publish(message.subarray(1, 1 + length), message.subarray(1 + length)).catch(() => undefined);
    });
    await sub.subscribe(service);
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!this.#requester) {
      const replyTo = Buffer.from(`${service}.reply.${process.pid}.${replyCounter++}`);
      const sub = await this.#client();
      sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.#pending.shift()?.(message));
      await sub.subscribe(replyTo.toString());
      this.#requester = { pub: await this.#client(), replyTo };
    }
    const { pub, replyTo } = this.#requester;
    const message = Buffer.allocUnsafe(1 + replyTo.length + data.byteLength);
    message.writeUInt8(replyTo.length, 0);
    replyTo.copy(message, 1);
    message.set(data, 1 + replyTo.length);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis: no reply within ${timeoutMs} ms`)), timeoutMs);
      this.#pending.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      pub.publish(service, message).catch(reject);
    });
  }

  async close(): Promise<void> {
    for (const redis of this.#clients) redis.disconnect();
  }
}

export const rawRedisDriver: Driver = {
  open: async () => new RedisLink(),
};
