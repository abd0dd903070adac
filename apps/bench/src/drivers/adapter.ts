// An adapter as the bench drives it: only through the public Transport API of @msg/core. How a
// link finds its peer differs by adapter (a broker URL, a gRPC host, a ZeroMQ directory), so each
// adapter brings its wiring; the workloads never see it.
import { type Transport, connect } from '@msg/core';
import type { Driver, Link, LinkOptions } from './driver.js';
import { freePort } from './ports.js';

/** A transport, how peers reach it, and how it learns of a peer. */
export interface Wired {
  transport: Transport;
  /** Read after serving or subscribing, when the endpoints exist. */
  address?(): string | undefined;
  meet?(address: string): void;
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
 * Brokerless adapters find peers in a directory that lives in one process. Links of one run opened
 * in the same process with a `group` (survey, bus: every member in one process) share one directory,
 * as transports in one process are meant to; the endpoints it holds are then local and never added
 * again from a peer's address. Links in other processes exchange their endpoints as their address.
 */
interface LocalDirectory<D> {
  directory: D;
  /** Endpoints of transports that are already members of the directory. */
  local: Set<string>;
}
const directories = new Map<string, LocalDirectory<unknown>>();
function localDirectory<D>(options: LinkOptions, create: () => D): LocalDirectory<D> {
  if (!options.group) return { directory: create(), local: new Set() };
  const key = `${options.runId}/${options.group}`;
  let found = directories.get(key) as LocalDirectory<D> | undefined;
  if (!found) directories.set(key, (found = { directory: create(), local: new Set() }));
  return found;
}

/** The parts of @msg/transport-zmq used here, typed locally so the bench builds without it. */
interface ZmqDirectory {
  publishers(): readonly { endpoint: string; confirms: boolean }[];
  addPublisher(endpoint: string, options?: { confirms?: boolean }): void;
  addService(service: string, endpoint: string): void;
  watch(listener: (change: { kind: 'service'; name: string; endpoint: string; added: boolean } | { kind: 'publisher'; added: boolean }) => void): () => void;
}
interface ZmqModule {
  Directory: new () => ZmqDirectory;
  createZmqTransport(options: { directory?: ZmqDirectory; bind?: string; guard?: boolean }): Promise<Transport>;
}

/**
 * ZeroMQ: each link passes what is in its directory (publishers, service endpoints) as its address,
 * and adds what its peer passed. `guard` as the transport's option (undefined: its default).
 */
export const zmqWiring = (guard?: boolean): Wiring => async (_mode, address, options) => {
  const zmq = (await import('@msg/transport-zmq' as string)) as ZmqModule;
  const { directory, local } = localDirectory(options, () => new zmq.Directory());
  const services: [string, string][] = [];
  const stopWatching = directory.watch((change) => {
    if (change.kind === 'service' && change.added) services.push([change.name, change.endpoint]);
  });
  const meet = (peer: string) => {
    const { publishers, services: theirs } = JSON.parse(peer) as { publishers: string[]; services: [string, string][] };
    for (const endpoint of publishers) if (!local.has(endpoint)) directory.addPublisher(endpoint, { confirms: true });
    for (const [name, endpoint] of theirs) if (!local.has(endpoint)) directory.addService(name, endpoint);
  };
  if (address) meet(address);
  const before = new Set(directory.publishers().map((p) => p.endpoint));
  const transport = await zmq.createZmqTransport({ directory, bind: 'tcp://127.0.0.1', guard });
  const own = directory.publishers().map((p) => p.endpoint).filter((e) => !before.has(e));
  for (const e of own) local.add(e);
  return {
    transport,
    meet,
    address: () => JSON.stringify({ publishers: [...before].filter((e) => local.has(e)).concat(own), services }),
    cleanup: async () => void stopWatching(),
  };
};

/** The parts of @msg/transport-nanomsg used here. */
interface NanomsgEndpoints {
  publish: string;
  survey: string;
  bus: string;
}
interface NanomsgDirectory {
  addReplier(service: string, endpoint: string): void;
  addPeer(endpoints: Partial<NanomsgEndpoints>): () => void;
}
interface NanomsgModule {
  Directory: new () => NanomsgDirectory;
  createNanomsgTransport(options: { directory?: NanomsgDirectory; listen?: string; bind?: Partial<NanomsgEndpoints> }): Promise<Transport>;
}

/**
 * nanomsg: each link binds its PUB, SURVEYOR and BUS sockets on ports chosen here, and passes them and
 * its repliers' endpoints as its address; its peer adds them to its own directory as a peer.
 */
export const nanomsgWiring: Wiring = async (_mode, address, options) => {
  const nn = (await import('@msg/transport-nanomsg' as string)) as NanomsgModule;
  const { directory, local } = localDirectory(options, () => new nn.Directory());
  const services: [string, string][] = [];
  const addReplier = directory.addReplier.bind(directory);
  const peers: (() => void)[] = [];
  // The directory announces no replier to watchers: note them as this link's transport adds them.
  const recording = (service: string, endpoint: string) => {
    if (!local.has(endpoint)) services.push([service, endpoint]);
    local.add(endpoint);
    addReplier(service, endpoint);
  };
  const meet = (peer: string) => {
    const { endpoints, services: theirs } = JSON.parse(peer) as { endpoints: NanomsgEndpoints[]; services: [string, string][] };
    for (const e of endpoints) if (!local.has(e.publish)) peers.push(directory.addPeer(e));
    for (const [name, endpoint] of theirs) if (!local.has(endpoint)) addReplier(name, endpoint);
  };
  if (address) meet(address);
  const tcp = async () => `tcp://127.0.0.1:${await freePort()}`;
  const endpoints: NanomsgEndpoints = { publish: await tcp(), survey: await tcp(), bus: await tcp() };
  local.add(endpoints.publish);
  directory.addReplier = recording;
  const transport = await nn.createNanomsgTransport({ directory, listen: 'tcp://127.0.0.1', bind: endpoints });
  return {
    transport,
    meet,
    address: () => JSON.stringify({ endpoints: [endpoints], services }),
    cleanup: async () => {
      for (const remove of peers) remove();
    },
  };
};
