// The ZeroMQ transport: brokerless. Each transport binds its own sockets and finds its peers through
// a shared Directory (see directory.ts); the patterns live in reqrep.ts, pubsub.ts, survey.ts, bus.ts.

import { type Capabilities, type MsgError, StatusFeed, type Transport, type TransportFactory, createTransport, nextId, registerTransport, toMsgError } from '@msg/core';
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
  sharedDirectory as familyDirectory,
  meetingsFor,
  useDiscovery,
} from '@msg/discovery';
import { ZmqBackend } from './backend.js';
import { Guard } from './guard.js';
import { Publishing, Subscriptions } from './pubsub.js';
import { type Front, Requester, bindFront } from './reqrep.js';
import { type CurveKeys, closeBinding, socketSettings } from './sockets.js';
import { Answers, Surveys } from './survey.js';

export { Directory } from '@msg/discovery';
export type { DirectoryChange, DiscoveryConfig, EndpointOptions, Peer, PeerEndpoints } from '@msg/discovery';
export type { CurveKeys } from './sockets.js';
export type { MessageLimits } from './guard.js';

/** The process-wide zmq directory called `name`: transports given the same name find each other. */
export function sharedDirectory(name = 'default'): Directory {
  return familyDirectory('zmq', name);
}

/**
 * The `zmq+` URL for nanocat-style endpoints: the scheme and host (where this transport's other
 * sockets bind) come from the first endpoint; both lists travel as `bind` and `connect` parameters,
 * and `pattern` (the pattern the bind endpoints serve, bound at creation) when given.
 */
export function endpointsUrl(bind: string[], connect: string[] = [], pattern?: Pattern): string {
  return familyUrl('zmq', bind, connect, {}, pattern);
}

const MAX_PAYLOAD = 16 * 1024 * 1024;
// Room for the meta frame's headers beside the largest payload; a peer sending more is cut off.
const MAX_FRAME = MAX_PAYLOAD + 1024 * 1024;
/**
 * What one message from a TCP peer may be, all parts together: ours have at most four parts (a
 * ROUTER's routing id, the delimiter, payload and meta), a native peer's a few routing ids more.
 */
const PEER_LIMITS = { maxParts: 32, maxBytes: MAX_FRAME };

export const zmqCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  // A PUB drops a subscriber's copy past its high-water mark; a dead peer loses what it had queued.
  delivery: 'at-most-once',
  // One publisher reaches one subscriber over one connection, in order.
  ordering: 'per-publisher',
  durable: false,
  replay: false,
  maxPayload: MAX_PAYLOAD,
  wildcards: true,
  headers: true,
  // PUB/SUB has no consumer groups: every subscriber gets every message.
  queueGroups: false,
  deadLetter: false,
  timing: { surveyDeadlineMs: 250, settleMs: 100 },
};

export interface ZmqOptions {
  /** Transports that share a directory find each other. Default: `sharedDirectory()`. */
  directory?: Directory;
  /**
   * Where this transport binds: `tcp://HOST` (ephemeral ports), `ipc:///DIR` (a socket file per
   * endpoint) or `inproc://NAME`. Default `tcp://127.0.0.1`.
   */
  bind?: string;
  /** An exact endpoint for this transport's publisher, e.g. `tcp://127.0.0.1:5556`, for native subscribers. */
  publishOn?: string;
  /**
   * nanocat-style endpoints for peers in other processes: `bind` for the first socket that binds for
   * a pattern, `connect` listed in the directory in the role each pattern needs (see EndpointOptions).
   */
  endpoints?: EndpointOptions;
  /**
   * Find peers in other processes and hosts by name: `{ via: 'udp' }` (beacons) or `{ via: [EP...] }`
   * (discovery nodes), with the network's `secret`. Default: none, peers share a directory in this process.
   */
  discovery?: DiscoveryConfig;
  /** 0 (default): a replier handles each request as it arrives. N: a ROUTER front with N REP workers. */
  workers?: number;
  /** CURVE: the network's key pair (`curveKeyPair()` from zeromq); without it nothing gets through. */
  curve?: CurveKeys;
  /** Messages queued per peer and direction before a PUB drops or a DEALER waits. Default 100,000. */
  highWaterMark?: number;
  /** Milliseconds a closed socket keeps trying to send what it queued. Default 200. */
  linger?: number;
  /** Milliseconds a subscribe waits for each publisher to confirm it. Default 2,000. */
  confirmTimeout?: number;
  /**
   * Which TCP binds go behind the relay that bounds what one peer's message may hold (32 parts,
   * 17 MiB; libzmq itself keeps every part of an unfinished message, without limit). true: all of
   * them; false: none (a network whose peers are trusted). Default: all but binds on a loopback
   * address, which only processes of this host reach; the relay's hop costs throughput (see README).
   */
  guard?: boolean;
}

export interface ZmqTransport extends Transport {
  /** TCP peers cut off so far for a message with too many parts or bytes, or for not speaking ZMTP. */
  readonly droppedPeers: number;
}

/** A ZeroMQ transport; see ZmqOptions for where it binds and how it finds its peers. */
export async function createZmqTransport(options: ZmqOptions = {}): Promise<ZmqTransport> {
  const directory = options.directory ?? sharedDirectory();
  const bind = options.bind ?? 'tcp://127.0.0.1';
  const status = new StatusFeed('zmq');
  const guard = options.guard === false ? undefined : new Guard(PEER_LIMITS, (error) => status.error('relay', error), options.guard === true);
  const settings = socketSettings({
    highWaterMark: options.highWaterMark ?? 100_000,
    linger: options.linger ?? 200,
    maxFrame: MAX_FRAME,
    curve: options.curve,
    guard,
    status,
  });
  let publishing: Publishing;
  try {
    publishing = await Publishing.open(settings, bind, options.publishOn);
  } catch (error) {
    guard?.close();
    throw toMsgError(error, 'zmq');
  }
  const endpoints = new GivenEndpoints(directory, options.endpoints);
  let front: Front | undefined;
  let discovering: Discovering | undefined;
  try {
    front = await bindGiven(endpoints, publishing, settings, bind);
    if (options.discovery) {
      // A record that cannot be sent is a background failure: it goes to status(), as the relay's do.
      const config = { onError: (error: MsgError) => status.error('discovery', error), ...options.discovery };
      discovering = await useDiscovery(directory, 'zmq', config, () => meetings(config, bind, options));
    }
  } catch (error) {
    if (front) closeBinding(front.router, settings);
    publishing.close();
    guard?.close();
    throw toMsgError(error, 'zmq');
  }
  const id = nextId();
  const unlist = directory.addPeer({ id, endpoints: { publish: publishing.endpoint } });
  const backend = new ZmqBackend({
    capabilities: zmqCapabilities,
    directory,
    settings,
    bind,
    workers: options.workers ?? 0,
    endpoints,
    front,
    unlist,
    discovering,
    publishing,
    subscriptions: new Subscriptions(settings, directory, options.confirmTimeout ?? 2000, id),
    requester: new Requester(directory, settings),
    surveys: new Surveys(settings, bind),
    answers: new Answers(settings),
  });
  return Object.defineProperty(createTransport(backend), 'droppedPeers', { get: () => guard?.dropped ?? 0, enumerable: true }) as ZmqTransport;
}

/**
 * Binds the given endpoints now when their pattern is known, so peers can connect before the first
 * message: on a replier's ROUTER for `reply`, on the publisher (which carries publish, survey and bus).
 */
async function bindGiven(endpoints: GivenEndpoints, publishing: Publishing, settings: ReturnType<typeof socketSettings>, bind: string): Promise<Front | undefined> {
  if (endpoints.pattern === undefined) return undefined;
  const exact = endpoints.takeBind();
  if (exact.length === 0) return undefined;
  if (endpoints.pattern === 'reply') return bindFront(settings, bind, exact);
  await publishing.bindAlso(exact);
  return undefined;
}

/** A member of the discovery nodes is a transport of its own, outside any shared directory, as secure as this one. */
function meetings(config: DiscoveryConfig, bind: string, options: ZmqOptions): Meeting[] {
  return meetingsFor(config, bind, (connect) => createZmqTransport({ bind, curve: options.curve, guard: options.guard, directory: new Directory(), endpoints: { connect } }));
}

/**
 * `zmq+tcp://HOST[:PORT]` binds on HOST (the publisher on PORT when given), `zmq+ipc:///DIR` binds
 * socket files in DIR, `zmq+inproc://NAME` stays in the process. `?directory=NAME` picks the
 * process-wide directory NAME (default `default`); `bind=EP` and `connect=EP`, each repeatable, are
 * the `endpoints` option (see `endpointsUrl`), with `pattern=reply|publish|survey|bus` to bind them
 * at creation. `?guard=true|false` is the `guard` option. `?discovery=udp` (or `=EP,EP`, discovery
 * nodes) with `secret=`, `beacon=ADDRESS:PORT`, `interval=MS`, `expiry=MS` is the `discovery` option.
 */
export const zmqTransport: TransportFactory<ZmqOptions> = {
  schemes: ['zmq+tcp', 'zmq+ipc', 'zmq+inproc'],
  connect: (url, options) => createZmqTransport({ ...fromUrl(url), ...options }),
};

function fromUrl(url: URL): ZmqOptions {
  const params = url.searchParams;
  const directory = sharedDirectory(params.get('directory') ?? 'default');
  const endpoints = { bind: params.getAll('bind'), connect: params.getAll('connect'), pattern: patternOf(params.get('pattern')) };
  const given = params.get('guard');
  const common = { directory, endpoints, guard: given === null ? undefined : given !== 'false', discovery: discoveryFromUrl(params) };
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme === 'zmq+ipc') return { ...common, bind: `ipc://${url.pathname}` };
  if (scheme === 'zmq+inproc') return { ...common, bind: `inproc://${url.hostname || 'msg'}` };
  const host = url.hostname || '127.0.0.1';
  return { ...common, bind: `tcp://${host}`, publishOn: url.port ? `tcp://${host}:${url.port}` : undefined };
}

registerTransport(zmqTransport);
