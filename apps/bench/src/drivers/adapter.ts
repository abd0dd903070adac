// An adapter as the bench drives it: only through the public Transport API of @msg/core. How a
// link finds its peer differs by adapter (a broker URL, a gRPC host, a ZeroMQ directory), so each
// adapter brings its wiring; the workloads never see it.
import { type Transport, connect } from '@msg/core';
import type { Driver, Link } from './driver.js';

/** A transport, how peers reach it, and how it learns of a peer. */
export interface Wired {
  transport: Transport;
  /** Read after serving or subscribing, when the endpoints exist. */
  address?(): string | undefined;
  meet?(address: string): void;
}

export type Wiring = (mode: 'bind' | 'connect', address: string | undefined, runId: string) => Promise<Wired>;

class AdapterLink implements Link {
  readonly transport: Transport;
  readonly #wired: Wired;

  constructor(wired: Wired) {
    this.#wired = wired;
    this.transport = wired.transport;
  }

  get address(): string | undefined {
    return this.#wired.address?.();
  }

  meet(address: string): void {
    this.#wired.meet?.(address);
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

export function adapterDriver(wiring: Wiring): Driver {
  return { open: async (mode, address, options) => new AdapterLink(await wiring(mode, address, options.runId)) };
}

/** A broker: every link connects to the same URL. */
export const brokerWiring =
  (url: string): Wiring =>
  async () => ({ transport: await connect(url) });

/** gRPC: the binding side hosts on a free port, the others connect to it. */
export const grpcWiring: Wiring = async (mode, address) => {
  if (mode === 'connect' && address) return { transport: await connect(`grpc://${address}`) };
  const transport = (await connect('grpc+listen://127.0.0.1:0')) as Transport & { address: string };
  return { transport, address: () => transport.address };
};

/** The parts of @msg/transport-zmq used here, typed locally so the bench builds without it. */
interface ZmqDirectory {
  publishers(): readonly { endpoint: string; confirms: boolean }[];
  addPublisher(endpoint: string, options?: { confirms?: boolean }): void;
  addService(service: string, endpoint: string): void;
  watch(listener: (change: { kind: 'service'; name: string; endpoint: string; added: boolean } | { kind: 'publisher'; added: boolean }) => void): () => void;
}
interface ZmqModule {
  Directory: new () => ZmqDirectory;
  createZmqTransport(options: { directory?: ZmqDirectory; bind?: string }): Promise<Transport>;
}

/**
 * ZeroMQ has no broker: a transport finds its peers in a directory that lives in one process. Each
 * link gets its own directory, passes what is in it (publishers, service endpoints) as its address,
 * and adds what its peer passed.
 */
export const zmqWiring: Wiring = async (_mode, address) => {
  const zmq = (await import('@msg/transport-zmq' as string)) as ZmqModule;
  const directory = new zmq.Directory();
  const services: [string, string][] = [];
  directory.watch((change) => {
    if (change.kind === 'service' && change.added) services.push([change.name, change.endpoint]);
  });
  const meet = (peer: string) => {
    const { publishers, services: theirs } = JSON.parse(peer) as { publishers: string[]; services: [string, string][] };
    for (const endpoint of publishers) directory.addPublisher(endpoint, { confirms: true });
    for (const [name, endpoint] of theirs) directory.addService(name, endpoint);
  };
  if (address) meet(address);
  const transport = await zmq.createZmqTransport({ directory, bind: 'tcp://127.0.0.1' });
  const own = directory.publishers().map((p) => p.endpoint);
  return { transport, meet, address: () => JSON.stringify({ publishers: own, services }) };
};
