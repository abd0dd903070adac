// The nanomsg transport: native REQ/REP, PUB/SUB, SURVEYOR/RESPONDENT and BUS sockets, brokerless.
// Transports find each other by name through a shared Directory; native peers are added to it by
// endpoint. PIPELINE and PAIR are offered beside the Transport as plain byte channels.

import {
  type Backend,
  type BusLink,
  type Capabilities,
  type Deliver,
  type Message,
  type MsgError,
  type RequestCall,
  type Serve,
  type Stop,
  type Transport,
  type TransportFactory,
  InvalidArgumentError,
  StatusFeed,
  createTransport,
  registerTransport,
} from '@msg/core';
import {
  Directory,
  type Discovering,
  type DiscoveryConfig,
  type EndpointOptions,
  type Meeting,
  type Pattern,
  GivenEndpoints,
  discoveryFromUrl,
  endpointsUrl as familyUrl,
  patternOf,
  sharedDirectory,
  meetingsFor,
  sendWhenServed,
  useDiscovery,
} from '@msg/discovery';
import { Bus } from './bus.js';
import { newEndpoint } from './endpoints.js';
import { FAREWELL_TIMEOUT_MS, Mesh } from './mesh.js';
import { PubSub } from './pubsub.js';
import { type Bound, Requests, bindReplier, serveRequests } from './reqrep.js';
import type { NanoSocket, SocketSettings } from './socket.js';
import { Respondent, Surveys } from './survey.js';
import type { Wire } from './wire.js';

export { Directory } from '@msg/discovery';
export type { DirectoryChange, DiscoveryConfig, EndpointOptions, Peer, PeerEndpoints } from '@msg/discovery';

/** The directory of transports that are given none. */
export const defaultDirectory: Directory = sharedDirectory('nanomsg');

/**
 * The `nanomsg+` URL for nanocat-style endpoints, on the plain wire as nanocat sends (bare payloads,
 * no headers): the scheme and host (where the transport's other sockets listen) come from the first
 * endpoint; both lists travel as `bind` and `connect` parameters, and `pattern` (the pattern the
 * bind endpoints serve, bound at creation) when given.
 */
export function endpointsUrl(bind: string[], connect: string[] = [], pattern?: Pattern): string {
  return familyUrl('nanomsg', bind, connect, { wire: 'plain' }, pattern);
}
export { createPair, createPuller, createPusher } from './channel.js';
export type { ChannelOptions, Pair, Puller, Pusher } from './channel.js';

const MiB = 1024 * 1024;

/** With the msg envelope (the default): ids and headers travel. */
export const nanomsgCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  // PUB, BUS and SURVEYOR drop a frame for a peer whose buffer is full; nothing is resent.
  delivery: 'at-most-once',
  // One pipe per pair of peers, and nanomsg keeps a pipe's order.
  ordering: 'per-publisher',
  durable: false,
  replay: false,
  maxPayload: 8 * MiB,
  // SUB filters by prefix; the core matches the rest of the pattern.
  wildcards: true,
  headers: true,
  queueGroups: false,
  deadLetter: false,
  timing: { surveyDeadlineMs: 300, settleMs: 100 },
};

/**
 * With `wire: 'plain'`: bare payloads, as native peers send them, so no headers, and no request
 * deadline either: a replier waits for a hung handler until it returns (see the README).
 */
export const nanomsgPlainCapabilities: Capabilities = { ...nanomsgCapabilities, headers: false };

export interface NanomsgOptions {
  /** Transports sharing a directory find each other's services and topics. Default: one per process. */
  directory?: Directory;
  /**
   * Where sockets listen when `bind` names no endpoint: `ipc` (default; socket files in the OS temp
   * dir), `ipc:///some/dir`, `inproc`, or `tcp://HOST` (a free port each, e.g. `tcp://127.0.0.1`).
   */
  listen?: string;
  /** Fixed endpoints, for native peers to connect to. */
  bind?: {
    publish?: string;
    survey?: string;
    bus?: string;
    /** Service name to the endpoint of its REP socket. */
    reply?: Record<string, string>;
  };
  /**
   * nanocat-style endpoints for peers in other processes: `bind` for the first socket that binds for
   * a pattern, `connect` added to the directory in the role each pattern needs (see EndpointOptions).
   */
  endpoints?: EndpointOptions;
  /**
   * Find peers in other processes and hosts by name: `{ via: 'udp' }` (beacons) or `{ via: [EP...] }`
   * (discovery nodes), with the network's `secret`. Default: none, peers share a directory in this process.
   */
  discovery?: DiscoveryConfig;
  /** `envelope` (default): id and headers travel in the msg envelope. `plain`: the payload alone. */
  wire?: Wire;
  /** Requests in flight per service, each on its own REQ socket; more wait for a free one. Default 64. */
  maxInFlight?: number;
  /** How long starting waits for its links to every peer of the directory. Default 5000 ms. */
  linkTimeoutMs?: number;
  /** Send and receive buffer per socket, in bytes. Default 1 MiB. */
  bufferBytes?: number;
}

class NanomsgBackend implements Backend {
  readonly name = 'nanomsg';
  /** nanomsg reconnects by itself and tells nothing of its links: only malformed frames are reported. */
  get status(): StatusFeed {
    return this.settings.status;
  }

  constructor(
    readonly capabilities: Capabilities,
    readonly options: Required<Pick<NanomsgOptions, 'directory' | 'listen' | 'linkTimeoutMs'>> & NanomsgOptions,
    readonly settings: SocketSettings,
    readonly mesh: Mesh,
    readonly requests: Requests,
    readonly pubsub: PubSub,
    readonly surveys: Surveys,
    readonly bus: Bus,
    readonly given: GivenEndpoints,
    /** The REP socket bound at creation on the given endpoints (pattern `reply`), for the first reply. */
    public replier: Bound | undefined,
    /** The discovery this transport takes part in, if any. */
    readonly discovering: Discovering | undefined,
  ) {}

  request(call: RequestCall): void {
    this.given.asRepliers(call.message.subject);
    sendWhenServed(this.options.directory, this.discovering, call, () => this.requests.request(call));
  }

  async reply(service: string, serve: Serve): Promise<Stop> {
    const fixed = this.options.bind?.reply?.[service];
    let bound = fixed === undefined ? this.replier : undefined;
    if (bound) this.replier = undefined;
    else {
      const endpoints = fixed !== undefined ? [fixed] : this.given.takeBind();
      bound = bindReplier(this.settings, endpoints.length > 0 ? endpoints : [await newEndpoint(this.options.listen)]);
    }
    return serveRequests(this.options.directory, this.settings, bound, service, serve);
  }

  publish(message: Message): void {
    this.#bindGiven(this.mesh.publisher);
    this.pubsub.publish(message);
  }

  subscribe(pattern: string, deliver: Deliver): Promise<Stop> {
    this.given.asPeers('publish');
    return this.pubsub.subscribe(pattern, deliver);
  }

  survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    this.#bindGiven(this.mesh.surveyor);
    for (const endpoint of this.given.connect) this.mesh.surveyor.connect(endpoint);
    return this.surveys.survey(question, deliver, signal);
  }

  respond(topic: string, serve: Serve): Promise<Stop> {
    this.given.asPeers('survey');
    return new Respondent(this.mesh, topic, serve).start(this.options.linkTimeoutMs);
  }

  join(group: string, deliver: Deliver): Promise<BusLink> {
    this.given.asPeers('bus');
    this.#bindGiven(this.mesh.bus);
    return this.bus.join(group, deliver);
  }

  /** The hand-given bind endpoints, on the socket of the first pattern that binds (see EndpointOptions). */
  #bindGiven(socket: NanoSocket): void {
    for (const endpoint of this.given.takeBind()) socket.bind(endpoint);
  }

  async close(): Promise<void> {
    this.requests.close();
    this.replier?.socket.close();
    await this.discovering?.release();
    // Bounded: past it, a peer that has not read what this transport sent last loses it.
    await this.mesh.farewell(FAREWELL_TIMEOUT_MS);
    this.mesh.close();
  }
}

/** A transport whose sockets listen per `options.listen`, linked to every peer of its directory. */
export async function createNanomsgTransport(options: NanomsgOptions = {}): Promise<Transport> {
  const directory = options.directory ?? defaultDirectory;
  const listen = options.listen ?? 'ipc';
  const linkTimeoutMs = options.linkTimeoutMs ?? 5000;
  const wire = options.wire ?? 'envelope';
  const capabilities = wire === 'plain' ? nanomsgPlainCapabilities : nanomsgCapabilities;
  // Room beyond the payload for the name and envelope; a frame over it is refused by the receiver.
  const settings: SocketSettings = { maxFrame: capabilities.maxPayload + MiB, bufferBytes: options.bufferBytes ?? MiB, status: new StatusFeed('nanomsg') };
  const endpoints = {
    publish: options.bind?.publish ?? (await newEndpoint(listen)),
    survey: options.bind?.survey ?? (await newEndpoint(listen)),
    bus: options.bind?.bus ?? (await newEndpoint(listen)),
  };
  const mesh = new Mesh(directory, endpoints, settings);
  const pubsub = new PubSub(mesh, wire);
  const bus = new Bus(mesh, wire);
  const given = new GivenEndpoints(directory, options.endpoints);
  let replier: Bound | undefined;
  let discovering: Discovering | undefined;
  try {
    replier = bindGiven(given, mesh, settings);
    const surveys = new Surveys(mesh, wire);
    if (options.discovery) {
      // A record that cannot be sent is a background failure: it goes to status().
      const config = { onError: (error: MsgError) => settings.status.error('discovery', error), ...options.discovery };
      discovering = await useDiscovery(directory, 'nanomsg', config, () => meetings(config, listen, options));
    }
    await mesh.start(linkTimeoutMs, { publish: (frame) => pubsub.received(frame), bus: (frame) => bus.received(frame) });
    const requests = new Requests(directory, settings, wire, options.maxInFlight ?? 64);
    const backendOptions = { ...options, directory, listen, linkTimeoutMs };
    return createTransport(new NanomsgBackend(capabilities, backendOptions, settings, mesh, requests, pubsub, surveys, bus, given, replier, discovering));
  } catch (error) {
    replier?.socket.close();
    mesh.close();
    await discovering?.release();
    throw error;
  }
}

/**
 * Binds the given endpoints now when their pattern is known, so peers can connect before the first
 * message: on a REP socket for `reply`, or on the PUB, SURVEYOR or BUS socket.
 */
function bindGiven(given: GivenEndpoints, mesh: Mesh, settings: SocketSettings): Bound | undefined {
  if (given.pattern === undefined) return undefined;
  const exact = given.takeBind();
  if (exact.length === 0) return undefined;
  if (given.pattern === 'reply') return bindReplier(settings, exact);
  const socket = { publish: mesh.publisher, survey: mesh.surveyor, bus: mesh.bus }[given.pattern];
  for (const endpoint of exact) socket.bind(endpoint);
  return undefined;
}

/** A member of the discovery nodes is a transport of its own, outside any shared directory, whose respondent connects to their SURVEYORs. */
function meetings(config: DiscoveryConfig, listen: string, options: NanomsgOptions): Meeting[] {
  return meetingsFor(config, listen, (connect) => createNanomsgTransport({ listen, bufferBytes: options.bufferBytes, directory: new Directory(), endpoints: { connect } }));
}

/**
 * `nanomsg+tcp://HOST` listens on free ports of HOST; `nanomsg+ipc:///DIR` (or `nanomsg+ipc://`)
 * on socket files in DIR (or the OS temp dir). Peers find each other through `options.directory`.
 * Parameters: `wire=plain|envelope`; `bind=EP` and `connect=EP`, each repeatable, for the
 * `endpoints` option (see `endpointsUrl`), with `pattern=reply|publish|survey|bus` to bind them at
 * creation; `directory=NAME` for a process-wide directory of that name; `discovery=udp` (or `=EP,EP`)
 * with `secret=`, `beacon=ADDRESS:PORT`, `interval=MS`, `expiry=MS` for the `discovery` option.
 */
export const nanomsgTransport: TransportFactory<NanomsgOptions> = {
  schemes: ['nanomsg+tcp', 'nanomsg+ipc'],
  connect: (url, options) => createNanomsgTransport({ ...fromUrl(url), ...options }),
};

function fromUrl(url: URL): NanomsgOptions {
  const params = url.searchParams;
  const listen = url.protocol === 'nanomsg+tcp:' ? `tcp://${url.host}` : url.pathname.length > 1 ? `ipc://${url.pathname}` : 'ipc';
  const wire = params.get('wire') ?? undefined;
  if (wire !== undefined && wire !== 'plain' && wire !== 'envelope') throw new InvalidArgumentError(`wire must be plain or envelope, got ${JSON.stringify(wire)}`);
  const endpoints = { bind: params.getAll('bind'), connect: params.getAll('connect'), pattern: patternOf(params.get('pattern')) };
  const name = params.get('directory');
  return { listen, wire, endpoints, discovery: discoveryFromUrl(params), directory: name === null ? undefined : sharedDirectory('nanomsg', name) };
}

registerTransport(nanomsgTransport);
