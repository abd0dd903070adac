// An adapter as the bench drives it: only through the public Transport API of @msg/core. How a
// link finds its peer differs by adapter (a broker URL, a gRPC host, discovery for ZeroMQ), so each
// adapter brings its wiring; the workloads never see it.
import { type Transport, connect } from '@msg/core';
import type { Driver, Link, LinkOptions } from './driver.js';

/** A transport, how peers reach it, and how it learns of a peer. */
export interface Wired {
  transport: Transport;
  /** Read after serving or subscribing, when the endpoints exist. */
  address?(): string | undefined;
  /** After the transport closed: removes what the run left on a shared broker (streams, keys). */
  cleanup?(): Promise<void>;
}

export type Wiring = (mode: 'bind' | 'connect', address: string | undefined, options: LinkOptions) => Promise<Wired>;

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

  async close(): Promise<void> {
    try {
      await this.transport.close();
    } finally {
      await this.#wired.cleanup?.();
    }
  }
}

export function adapterDriver(wiring: Wiring): Driver {
  return {
    open: async (mode, address, options) => {
      const wired = await wiring(mode, address, options);
      if (options.otel) (await import('../otel.js')).instrumented(wired.transport);
      return new AdapterLink(wired);
    },
  };
}

/** A broker: every link connects to the same URL, with options that may depend on the run. */
export const brokerWiring =
  (url: string, options?: (runId: string) => Record<string, unknown>, cleanup?: (runId: string) => Promise<void>): Wiring =>
  async (mode, _address, { runId }) => ({
    transport: await connect(url, options?.(runId)),
    // The binding side (subscriber, server, surveyor) is the last to close: it cleans up.
    cleanup: mode === 'bind' && cleanup ? () => cleanup(runId) : undefined,
  });

/** gRPC: the binding side hosts on a free port, the others connect to it. */
export const grpcWiring: Wiring = async (mode, address) => {
  if (mode === 'connect' && address) return { transport: await connect(`grpc://${address}`) };
  const transport = (await connect('grpc+listen://127.0.0.1:0')) as Transport & { address: string };
  return { transport, address: () => transport.address };
};

/**
 * Brokerless adapters find their peers by discovery, as a user's processes would: every link joins
 * UDP discovery on loopback with the run's id as the secret, so two runs never list each other. Links
 * of one run opened in one process with a `group` (survey, bus: every member in one process) share
 * one directory, as transports of one process are meant to.
 */
const directories = new Map<string, unknown>();
function directoryFor<D>(options: LinkOptions, create: () => D): D {
  if (!options.group) return create();
  const key = `${options.runId}/${options.group}`;
  let found = directories.get(key) as D | undefined;
  if (!found) directories.set(key, (found = create()));
  return found;
}

const discoveryFor = (runId: string) => ({ via: 'udp' as const, secret: `bench-${runId}`, intervalMs: 200 });

/** The parts of @msg/transport-zmq and @msg/transport-nanomsg used here, typed locally so the bench builds without them. */
interface BrokerlessModule {
  Directory: new () => unknown;
}
interface ZmqModule extends BrokerlessModule {
  createZmqTransport(options: { directory?: unknown; bind?: string; guard?: boolean; discovery?: ReturnType<typeof discoveryFor> }): Promise<Transport>;
}
interface NanomsgModule extends BrokerlessModule {
  createNanomsgTransport(options: { directory?: unknown; listen?: string; discovery?: ReturnType<typeof discoveryFor> }): Promise<Transport>;
}

/** ZeroMQ, found by discovery. `guard` as the transport's option (undefined: its default). */
export const zmqWiring = (guard?: boolean): Wiring => async (_mode, _address, options) => {
  const zmq = (await import('@msg/transport-zmq' as string)) as ZmqModule;
  const directory = directoryFor(options, () => new zmq.Directory());
  return { transport: await zmq.createZmqTransport({ directory, bind: 'tcp://127.0.0.1', guard, discovery: discoveryFor(options.runId) }) };
};

/** nanomsg over TCP on loopback, found by discovery. */
export const nanomsgWiring: Wiring = async (_mode, _address, options) => {
  const nn = (await import('@msg/transport-nanomsg' as string)) as NanomsgModule;
  const directory = directoryFor(options, () => new nn.Directory());
  return { transport: await nn.createNanomsgTransport({ directory, listen: 'tcp://127.0.0.1', discovery: discoveryFor(options.runId) }) };
};
