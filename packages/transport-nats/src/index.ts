// The NATS transport: request/reply, publish/subscribe, survey and bus on core NATS, and a durable
// profile whose publish/subscribe runs on JetStream (at-least-once, durable consumers).

import {
  type Backend,
  type BackendSubscribeOptions,
  type BusLink,
  type Capabilities,
  type Deliver,
  type Message,
  type RequestCall,
  type Serve,
  type Stop,
  type Transport,
  type TransportFactory,
  ConnectionError,
  StatusFeed,
  createTransport,
  registerTransport,
} from '@msg/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { join } from './bus.js';
import { type NatsConnectionOptions, openConnection } from './connection.js';
import { DurableTopics, type NatsJetStreamOptions } from './jetstream.js';
import { Publisher, subscribe } from './pubsub.js';
import { REPLIER_QUEUE, Requests, serveRequests } from './reqrep.js';
import { respond, survey } from './survey.js';
import { toCoreError } from './errors.js';
import { HEADER_ROOM } from './wire.js';

export type { NatsConnectionOptions, NatsTlsOptions } from './connection.js';
export type { NatsJetStreamOptions } from './jetstream.js';

export { HEADER_ROOM };
/** The server's default `max_payload` (1 MiB); the declared maximum follows the server actually reached. */
const DEFAULT_SERVER_MAX_PAYLOAD = 1024 * 1024;

/** Core NATS: fire-and-forget, nothing stored, order kept per connection. */
export const natsCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  delivery: 'at-most-once',
  ordering: 'per-publisher',
  durable: false,
  replay: false,
  maxPayload: DEFAULT_SERVER_MAX_PAYLOAD - HEADER_ROOM,
  wildcards: true,
  headers: true,
  queueGroups: true,
  deadLetter: false,
  timing: { surveyDeadlineMs: 500, settleMs: 100 },
};

/**
 * The durable profile: publish/subscribe on JetStream is at-least-once and durable; request/reply
 * and survey stay on core NATS (a request is answered now or not at all). No bus: its messages
 * would be at-most-once, which this profile does not promise.
 */
export const natsJetStreamCapabilities: Capabilities = {
  ...natsCapabilities,
  patterns: ['request', 'publish', 'survey'],
  delivery: 'at-least-once',
  durable: true,
  deadLetter: true,
  timing: { surveyDeadlineMs: 500, settleMs: 200 },
};

/**
 * The durable profile on a stream with more than one replica (`jetstream.replicas` > 1): every
 * message is stored on a quorum of servers before it is acknowledged or delivered, so a backlog
 * takes longer to drain.
 */
export const natsReplicatedJetStreamCapabilities: Capabilities = { ...natsJetStreamCapabilities, timing: { surveyDeadlineMs: 500, settleMs: 500 } };

export interface NatsOptions extends NatsConnectionOptions {
  /** Use the durable profile (JetStream publish/subscribe), with these stream settings. */
  jetstream?: NatsJetStreamOptions | boolean;
}

/** The one connection a NATS transport has, as status events name it. */
const CONNECTION = 'connection';

class NatsBackend implements Backend {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly #nc: NatsConnection;
  readonly #requests: Requests;
  readonly #publisher: Publisher;
  readonly #durable: DurableTopics | undefined;
  readonly status: StatusFeed;
  readonly #watching: Promise<void>;
  /**
   * Between a lost connection and the reconnect. The client throws away what is written meanwhile
   * (each reconnect attempt starts a fresh outbound buffer), so sending then fails at once rather
   * than pretend the message was taken.
   */
  #disconnected = false;

  constructor(nc: NatsConnection, capabilities: Capabilities, durable: DurableTopics | undefined, status: StatusFeed, reconnected: () => void) {
    this.name = durable ? 'nats+jetstream' : 'nats';
    this.capabilities = capabilities;
    this.status = status;
    this.#nc = nc;
    this.#durable = durable;
    this.#requests = new Requests(nc, capabilities.maxPayload);
    this.#publisher = new Publisher(nc, capabilities.maxPayload, status);
    this.#watching = this.#watch(reconnected);
  }

  /**
   * The client's own status events, passed on. A lost connection also fails the requests in flight
   * at once instead of letting each time out.
   */
  async #watch(reconnected: () => void): Promise<void> {
    let attempt = 0;
    for await (const event of this.#nc.status()) {
      switch (event.type) {
        case 'disconnect':
          this.#disconnected = true;
          attempt = 0;
          this.#requests.failAll();
          this.status.emit({ type: 'disconnected', connection: CONNECTION, error: new ConnectionError(`nats: lost the connection to ${event.server}; the client reconnects`) });
          break;
        case 'reconnecting':
          this.status.emit({ type: 'reconnecting', connection: CONNECTION, attempt: ++attempt, delayMs: 0 });
          break;
        case 'reconnect':
          this.#disconnected = false;
          reconnected();
          this.status.emit({ type: 'reconnected', connection: CONNECTION });
          break;
        case 'error':
          this.status.error(CONNECTION, toCoreError(event.error, { what: 'the connection' }));
          break;
        case 'slowConsumer':
          this.status.error(CONNECTION, new ConnectionError(`nats: the client dropped messages of "${event.sub.getSubject()}": ${event.pending} were pending (a slow consumer)`));
          break;
        default:
        // ldm, update, ping, staleConnection, forceReconnect, close: the events above follow where they matter
      }
    }
  }

  #checkConnected(what: string): void {
    if (this.#disconnected) {
      throw new ConnectionError(`nats: ${what} failed: the connection to the server is lost and being re-established; try again`);
    }
  }

  request(call: RequestCall): void {
    this.#checkConnected(`request to "${call.message.subject}"`);
    this.#requests.request(call);
  }

  reply(service: string, serve: Serve): Promise<Stop> {
    return serveRequests(this.#nc, service, serve, REPLIER_QUEUE, this.capabilities.maxPayload);
  }

  publish(message: Message): void | Promise<void> {
    this.#checkConnected(`publish to "${message.subject}"`);
    if (this.#durable) return this.#durable.publish(message);
    this.#publisher.publish(message);
  }

  subscribe(pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
    if (this.#durable) return this.#durable.subscribe(pattern, deliver, options);
    return subscribe(this.#nc, pattern, deliver, options);
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    this.#checkConnected(`survey on "${question.subject}"`);
    survey(this.#nc, question, deliver, signal, this.capabilities.maxPayload);
  }

  respond(topic: string, serve: Serve): Promise<Stop> {
    return respond(this.#nc, topic, serve, this.capabilities.maxPayload);
  }

  async join(group: string, deliver: Deliver): Promise<BusLink> {
    const link = await join(this.#nc, group, deliver, this.capabilities.maxPayload);
    return {
      send: async (message) => {
        this.#checkConnected(`send to bus "${group}"`);
        await link.send(message);
      },
      leave: link.leave,
    };
  }

  async close(): Promise<void> {
    this.#requests.stop();
    this.#publisher.flush();
    await this.#nc.close();
    await this.#watching;
  }
}

/**
 * Connects to NATS. With `jetstream`, the durable profile (see natsJetStreamCapabilities). The
 * declared `maxPayload` is the server's `max_payload` less HEADER_ROOM.
 */
export async function createNatsTransport(options: NatsOptions = {}): Promise<Transport> {
  const { nc, connected } = await openConnection(options);
  try {
    const serverMax = nc.info?.max_payload ?? DEFAULT_SERVER_MAX_PAYLOAD;
    const replicated = typeof options.jetstream === 'object' && (options.jetstream.replicas ?? 1) > 1;
    const base = options.jetstream ? (replicated ? natsReplicatedJetStreamCapabilities : natsJetStreamCapabilities) : natsCapabilities;
    const capabilities = serverMax === DEFAULT_SERVER_MAX_PAYLOAD ? base : { ...base, maxPayload: serverMax - HEADER_ROOM };
    const status = new StatusFeed(options.jetstream ? 'nats+jetstream' : 'nats');
    const durable = options.jetstream
      ? await DurableTopics.open(nc, options.jetstream === true ? {} : options.jetstream, capabilities.maxPayload, status)
      : undefined;
    return createTransport(new NatsBackend(nc, capabilities, durable, status, connected));
  } catch (error) {
    await nc.close();
    throw error;
  }
}

function fromUrl(url: URL, options: NatsOptions | undefined, durable: boolean): Promise<Transport> {
  const server = `nats://${url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : ''}${url.host || '127.0.0.1:4222'}`;
  return createNatsTransport({ servers: server, ...options, ...(durable ? { jetstream: options?.jetstream ?? true } : {}) });
}

/** `nats://host:port` (also `nats://TOKEN@host:port`, `nats://USER:PASS@host:port`). */
export const natsTransport: TransportFactory<NatsOptions> = {
  schemes: ['nats'],
  connect: (url, options) => fromUrl(url, options, false),
};

/** `nats+jetstream://host:port`: the durable profile. */
export const natsJetStreamTransport: TransportFactory<NatsOptions> = {
  schemes: ['nats+jetstream'],
  connect: (url, options) => fromUrl(url, options, true),
};

registerTransport(natsTransport);
registerTransport(natsJetStreamTransport);
