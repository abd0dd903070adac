// A peer, not a baseline: what a user would pick instead of msg. NestJS microservices over the same
// NATS and Redis, request/reply only: a @MessagePattern handler in a Nest microservice app, and a
// ClientProxy per client whose send() the bench awaits. Bytes travel as base64 strings inside Nest's
// JSON packets, as a user sending a Buffer through Nest would encode them (see the bench README).
import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type ClientProxy, ClientProxyFactory, MessagePattern, type NatsOptions, type RedisOptions, Transport } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import type { Driver, Link } from './driver.js';

export type NestBroker = 'nats' | 'redis';

/** Nest's own options for each broker, the same for the server and its clients. */
function transportOf(broker: NestBroker): NatsOptions | RedisOptions {
  if (broker === 'nats') return { transport: Transport.NATS, options: { servers: ['nats://127.0.0.1:4222'], maxReconnectAttempts: 0, queue: 'echo' } };
  return { transport: Transport.REDIS, options: { host: '127.0.0.1', port: 6379, retryAttempts: 0 } };
}

/**
 * The module a user would write with decorators, decorated by calling them: the bench compiles
 * without `experimentalDecorators`, and the pattern is the run's own service name.
 */
function echoModule(service: string): new () => object {
  class EchoController {
    echo(data: string): string {
      return data;
    }
  }
  const echo = Object.getOwnPropertyDescriptor(EchoController.prototype, 'echo')!;
  MessagePattern(service)(EchoController.prototype, 'echo', echo);
  Controller()(EchoController);
  class EchoModule {}
  Module({ controllers: [EchoController] })(EchoModule);
  return EchoModule;
}

class NestLink implements Link {
  readonly #broker: NestBroker;
  readonly #apps: INestMicroservice[] = [];
  #client?: ClientProxy;

  constructor(broker: NestBroker) {
    this.#broker = broker;
  }

  publish(): never {
    throw new Error(`nestjs-${this.#broker}: request/reply only, no pubsub`);
  }

  subscribe(): Promise<void> {
    return Promise.reject(new Error(`nestjs-${this.#broker}: request/reply only, no pubsub`));
  }

  async serve(service: string, workers: number): Promise<void> {
    // Redis pub/sub has no queue group: every Nest server on the channel would answer every request.
    if (this.#broker === 'redis' && workers > 1) throw new Error('nestjs-redis: one server only (Redis pub/sub would deliver each request to every server, and each would answer)');
    for (let i = 0; i < workers; i++) {
      const app = await NestFactory.createMicroservice(echoModule(service), { ...transportOf(this.#broker), logger: false });
      this.#apps.push(app);
      await app.listen();
    }
  }

  async connect(): Promise<ClientProxy> {
    this.#client ??= ClientProxyFactory.create(transportOf(this.#broker));
    await this.#client.connect();
    return this.#client;
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const client = this.#client ?? (await this.connect());
    const base64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    const reply = await firstValueFrom(client.send<string, string>(service, base64).pipe(timeout(timeoutMs)));
    return Buffer.from(reply, 'base64');
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await Promise.allSettled([client?.close(), ...this.#apps.splice(0).map((app) => app.close())]);
  }
}

export const nestjsDriver = (broker: NestBroker): Driver => ({
  // The connection opens here, as the adapters' do, so that connecting is not timed as a request.
  open: async (mode) => {
    const link = new NestLink(broker);
    if (mode === 'connect') await link.connect();
    return link;
  },
});
