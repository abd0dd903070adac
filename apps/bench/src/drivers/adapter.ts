// An adapter as the bench drives it: only through the public Transport API of @msg/core.
import { type Transport, connect } from '@msg/core';
import type { Driver, Link } from './driver.js';

class AdapterLink implements Link {
  readonly transport: Transport;
  readonly address?: string;

  constructor(transport: Transport, address?: string) {
    this.transport = transport;
    this.address = address;
  }

  publish(topic: string, data: Uint8Array): Promise<void> {
    return this.transport.publish(topic, data);
  }

  async subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    await this.transport.subscribe(topic, { handler: (message) => onMessage(message.data) });
  }

  async serve(service: string, workers: number): Promise<void> {
    for (let i = 0; i < workers; i++) await this.transport.reply(service, (request) => request.data);
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return (await this.transport.request(service, data, { timeout: timeoutMs })).data;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

/**
 * `urlOf` says which URL a link opens: a broker's fixed address, or for brokerless adapters a bound
 * endpoint (mode `bind`) that the peer then connects to (its `address`).
 */
export function adapterDriver(urlOf: (mode: 'bind' | 'connect', address: string | undefined, runId: string) => Promise<{ url: string; address?: string }>): Driver {
  return {
    async open(mode, address, options) {
      const { url, address: bound } = await urlOf(mode, address, options.runId);
      return new AdapterLink(await connect(url), bound);
    },
  };
}
