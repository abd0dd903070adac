// The baseline for the NATS adapter: @nats-io/transport-node directly, core NATS (at most once).
import { type NatsConnection, connect } from '@nats-io/transport-node';
import type { Driver, Link } from './driver.js';

class NatsLink implements Link {
  readonly #nc: NatsConnection;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  publish(topic: string, data: Uint8Array): void {
    this.#nc.publish(topic, data);
  }

  async subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    this.#nc.subscribe(topic, { callback: (error, message) => {
        if (!error) onMessage(message.data);
      },
    });
    await this.#nc.flush();
  }

  async serve(service: string, workers: number): Promise<void> {
    for (let i = 0; i < workers; i++) {
      this.#nc.subscribe(service, { queue: 'echo', callback: (error, message) => {
          if (!error) message.respond(message.data);
        },
      });
    }
    await this.#nc.flush();
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return (await this.#nc.request(service, data, { timeout: timeoutMs })).data;
  }

  async close(): Promise<void> {
    await this.#nc.close();
  }
}

export const rawNatsDriver: Driver = {
  open: async () => new NatsLink(await connect({ servers: '127.0.0.1:4222', maxReconnectAttempts: 0 })),
};
