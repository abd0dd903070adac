// The baseline for the AMQP adapter: amqplib directly on RabbitMQ. Pub/sub through a fanout exchange
// to an exclusive queue, no acks; echo through a service queue and direct reply-to.
import { once } from 'node:events';
import { type Channel, type ChannelModel, connect } from 'amqplib';
import type { Driver, Link } from './driver.js';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const REPLY_TO = 'amq.rabbitmq.reply-to';

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

class AmqpLink implements Link {
  readonly #connection: ChannelModel;
  readonly #channel: Channel;
  readonly #exchanges = new Set<string>();
  readonly #pending = new Map<string, (reply: Uint8Array) => void>();
  #replies = false;
  #nextId = 0;

  constructor(connection: ChannelModel, channel: Channel) {
    this.#connection = connection;
    this.#channel = channel;
  }

  async #exchange(topic: string): Promise<void> {
    if (this.#exchanges.has(topic)) return;
    await this.#channel.assertExchange(topic, 'fanout', { durable: false, autoDelete: true });
    this.#exchanges.add(topic);
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    await this.#exchange(topic);
    if (!this.#channel.publish(topic, '', asBuffer(data))) await once(this.#channel, 'drain');
  }

  async subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    await this.#exchange(topic);
    const { queue } = await this.#channel.assertQueue('', { exclusive: true, autoDelete: true });
    await this.#channel.bindQueue(queue, topic, '');
    await this.#channel.consume(queue, (message) => message && onMessage(message.content), { noAck: true });
  }

  async serve(service: string, workers: number): Promise<void> {
    await this.#channel.assertQueue(service, { durable: false, autoDelete: true });
    for (let i = 0; i < workers; i++) {
      await this.#channel.consume(
        service,
        (message) => {
          if (!message) return;
          const { replyTo, correlationId } = message.properties as { replyTo?: string; correlationId?: string };
          if (replyTo) this.#channel.sendToQueue(replyTo, message.content, { correlationId });
        },
        { noAck: true },
      );
    }
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!this.#replies) {
      this.#replies = true;
      await this.#channel.consume(
        REPLY_TO,
        (message) => {
          const id = (message?.properties as { correlationId?: string } | undefined)?.correlationId;
          if (message && id) this.#pending.get(id)?.(message.content);
        },
        { noAck: true },
      );
    }
    const id = (this.#nextId++).toString(36);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`amqp: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(reply);
      });
      this.#channel.sendToQueue(service, asBuffer(data), { replyTo: REPLY_TO, correlationId: id });
    });
  }

  async close(): Promise<void> {
    // A connection already lost has nothing to close.
    await this.#connection.close().catch(() => undefined);
  }
}

export const rawAmqpDriver: Driver = {
  async open() {
    const connection = await connect(URL);
    connection.on('error', () => undefined);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return new AmqpLink(connection, channel);
  },
};
