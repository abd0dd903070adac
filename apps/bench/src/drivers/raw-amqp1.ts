// The baseline for the AMQP 1.0 adapter: rhea directly, at most once, on the same addresses the
// adapter uses on ActiveMQ (topics as `topic://VirtualTopic.<name>`, services as queues): one
// anonymous pre-settled sender, receivers that take pre-settled deliveries, and echo as a request with
// reply-to (a dynamic reply queue) and a correlation id. A publish waits only when the link has no
// credit or the session's window is full, as rhea requires.
import rhea, { type Connection, type EventContext, type Message, type Receiver, type Sender } from 'rhea';
import type { Driver, Link } from './driver.js';

const TOPIC = 'topic://VirtualTopic.';
let counter = 0;

function opened(receiver: Receiver): Promise<Receiver> {
  return new Promise((resolve, reject) => {
    receiver.once('receiver_open', () => resolve(receiver));
    receiver.once('receiver_error', (context: EventContext) => reject(new Error(`amqp1: link refused: ${JSON.stringify(context.receiver?.error)}`)));
  });
}

function body(message: Message): Uint8Array {
  return (message.body as { content: Buffer }).content;
}

class Amqp1Link implements Link {
  readonly #connection: Connection;
  readonly #sender: Sender;
  readonly #pending = new Map<string, (reply: Uint8Array) => void>();
  #replyTo: string | undefined;

  constructor(connection: Connection) {
    this.#connection = connection;
    this.#sender = connection.open_sender({ target: {}, snd_settle_mode: 1 });
  }

  #send(message: Message): Promise<void> | void {
    if (this.#sender.sendable()) {
      this.#sender.send(message);
      return;
    }
    return new Promise<void>((resolve) => {
      const retry = () => {
        if (!this.#sender.sendable()) return;
        this.#sender.removeListener('sendable', retry);
        this.#sender.send(message);
        resolve();
      };
      this.#sender.on('sendable', retry);
    });
  }

  publish(topic: string, data: Uint8Array): Promise<void> | void {
    return this.#send({ to: TOPIC + topic, body: rhea.message.data_section(Buffer.from(data)) });
  }

  async subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    const receiver = this.#connection.open_receiver({ source: { address: TOPIC + topic }, snd_settle_mode: 1, credit_window: 1000 });
    receiver.on('message', (context: EventContext) => onMessage(body(context.message as Message)));
    await opened(receiver);
  }

  async serve(service: string, workers: number): Promise<void> {
    // One connection with one consumer of the service's queue; `workers` does not apply.
    void workers;
    const receiver = this.#connection.open_receiver({ source: { address: `queue://${service}` }, snd_settle_mode: 1, credit_window: 1000 });
    receiver.on('message', (context: EventContext) => {
      const request = context.message as Message;
      if (!request.reply_to) return;
      void this.#send({ to: request.reply_to, correlation_id: request.correlation_id, body: request.body });
    });
    await opened(receiver);
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!this.#replyTo) {
      const receiver = this.#connection.open_receiver({ source: { address: '', dynamic: true }, snd_settle_mode: 1, credit_window: 1000 });
      receiver.on('message', (context: EventContext) => {
        const reply = context.message as Message;
        const resolve = this.#pending.get(String(reply.correlation_id));
        if (resolve) resolve(body(reply));
      });
      this.#replyTo = (await opened(receiver)).source.address;
    }
    const id = String(counter++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`amqp1: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(reply);
      });
      void this.#send({ to: `queue://${service}`, reply_to: this.#replyTo, correlation_id: id, body: rhea.message.data_section(Buffer.from(data)) });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#connection.socket?.destroy();
        resolve();
      }, 2000);
      this.#connection.once('connection_close', () => {
        clearTimeout(timer);
        this.#connection.socket?.end();
        resolve();
      });
      this.#connection.close();
    });
  }
}

export const rawAmqp1Driver: Driver = {
  open: () =>
    new Promise((resolve, reject) => {
      const connection = rhea.create_container({ id: `bench-raw-${process.pid}-${counter++}` }).connect({ host: '127.0.0.1', port: 5673, username: 'anonymous', reconnect: false });
      connection.once('connection_open', () => resolve(new Amqp1Link(connection)));
      connection.once('disconnected', (context: EventContext) => reject(new Error(`amqp1: could not connect to 127.0.0.1:5673: ${String(context.error ?? 'closed')}`)));
    }),
};
