// The AMQP 1.0 transport: request/reply, publish/subscribe, survey and bus at most once (`amqp1://`),
// and an at-least-once profile whose publish/subscribe sends persistent messages that the broker
// accepts, and consumes them unsettled until handled, on durable subscriptions (`amqp1+confirm://`).
// Tested on Apache ActiveMQ Classic; the addresses follow its conventions (see wire.ts).

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
  InvalidArgumentError,
  StatusFeed,
  createTransport,
  nextId,
  registerTransport,
} from '@msg/core';
import { Broker } from './broker.js';
import { join } from './bus.js';
import { type Amqp1ConnectionOptions, type Endpoint, endpoint, openConnection } from './connection.js';
import { type ConfirmedSettings, subscribe, subscribeConfirmed } from './pubsub.js';
import { Requests, reply, respond } from './reqrep.js';
import { Addresses, DEFAULT_MAX_FRAME_SIZE, DEFAULT_TOPIC_PREFIX, HEADER_ROOM } from './wire.js';

export type { Amqp1ConnectionOptions } from './connection.js';
export { DEFAULT_MAX_FRAME_SIZE, DEFAULT_TOPIC_PREFIX, HEADER_ROOM };

/**
 * At most once: pre-settled transfers, nothing stored, nothing sent twice; the broker keeps one
 * sender's messages to one address in order. The declared maximum is for a broker whose connector
 * has ActiveMQ's shipped `maxFrameSize` of 100 MiB, less HEADER_ROOM; `maxFrameSize` changes it.
 */
export const amqp1Capabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  delivery: 'at-most-once',
  ordering: 'per-publisher',
  durable: false,
  replay: false,
  maxPayload: DEFAULT_MAX_FRAME_SIZE - HEADER_ROOM,
  wildcards: true,
  headers: true,
  queueGroups: true,
  // ActiveMQ's AMQP connector does not pass a delivery count on redelivery that the adapter could trust.
  deadLetter: false,
  timing: { surveyDeadlineMs: 500, settleMs: 150 },
};

/**
 * The at-least-once profile: publishes are persistent and resolve once the broker accepted them;
 * subscriptions are durable subscriptions (or a group's consumer queue), their messages settled
 * once handled and delivered again when not. Request/reply and survey stay at most once (an answer
 * is wanted now or not at all). No bus: its messages would be at most once, which this profile does
 * not promise.
 */
export const amqp1ConfirmCapabilities: Capabilities = {
  ...amqp1Capabilities,
  patterns: ['request', 'publish', 'survey'],
  delivery: 'at-least-once',
  durable: true,
  timing: { surveyDeadlineMs: 500, settleMs: 250 },
};

export interface Amqp1Options extends Amqp1ConnectionOptions {
  /** The at-least-once profile. Default false (the `amqp1+confirm://` scheme sets it). */
  confirm?: boolean;
  /**
   * The largest encoded message the broker takes: its AMQP connector's `transport.maxFrameSize`
   * (AMQP itself announces only the size of one frame, not of a message). Default 104,857,600, as
   * ActiveMQ ships it; `maxPayload` is this less HEADER_ROOM.
   */
  maxFrameSize?: number;
  /**
   * Put before every topic name. Default `VirtualTopic.`, ActiveMQ's virtual topics as it ships
   * them, which queue groups need; `''` for plain topics on a broker whose virtual topics match
   * every name, or where no queue group is used.
   */
  topicPrefix?: string;
  /** Container id of the transport's main connection. Default: a random `msg-...` id. */
  containerId?: string;
}

class Amqp1Backend implements Backend {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly status: StatusFeed;
  readonly #broker: Broker;
  readonly #requests: Requests;
  readonly #addresses: Addresses;
  /** Set in the at-least-once profile. */
  readonly #confirmed: ConfirmedSettings | undefined;

  constructor(broker: Broker, requests: Requests, addresses: Addresses, capabilities: Capabilities, confirmed: ConfirmedSettings | undefined, status: StatusFeed) {
    this.name = confirmed ? 'amqp1+confirm' : 'amqp1';
    this.capabilities = capabilities;
    this.status = status;
    this.#broker = broker;
    this.#requests = requests;
    this.#addresses = addresses;
    this.#confirmed = confirmed;
    // A lost connection fails the requests in flight at once instead of letting each time out.
    broker.connection.on('disconnected', () => requests.failAll());
  }

  request(call: RequestCall): void {
    this.#requests.request(call);
  }

  reply(service: string, serve: Serve): Promise<Stop> {
    return reply(this.#broker, this.#addresses, service, serve);
  }

  publish(message: Message): void | Promise<void> {
    const what = `publish to "${message.subject}"`;
    const out = { to: this.#addresses.topic(message.subject), data: message.data, headers: message.headers };
    if (this.#confirmed) return this.#broker.sendConfirmed(what, { ...out, messageId: message.id, durable: true });
    return this.#broker.send(what, out);
  }

  subscribe(pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
    if (this.#confirmed) return subscribeConfirmed(this.#broker, this.#addresses, pattern, deliver, options, this.#confirmed);
    return subscribe(this.#broker, this.#addresses, pattern, deliver, options);
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    this.#requests.survey(question, deliver, signal);
  }

  respond(topic: string, serve: Serve): Promise<Stop> {
    return respond(this.#broker, this.#addresses, topic, serve);
  }

  join(group: string, deliver: Deliver): Promise<BusLink> {
    return join(this.#broker, this.#addresses, group, deliver);
  }

  async close(): Promise<void> {
    // Detaching the reply receiver fails when the connection is down; closing it, next, ends it anyway.
    await this.#requests.stop().catch(() => undefined);
    await this.#broker.close();
  }
}

/** Connects to an AMQP 1.0 broker. With `confirm: true`, the at-least-once profile (see amqp1ConfirmCapabilities). */
export async function createAmqp1Transport(options: Amqp1Options = {}): Promise<Transport> {
  const point: Endpoint = endpoint(options);
  const status = new StatusFeed(options.confirm ? 'amqp1+confirm' : 'amqp1');
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isSafeInteger(maxFrameSize) || maxFrameSize <= HEADER_ROOM) {
    throw new InvalidArgumentError(`amqp1: maxFrameSize must be a whole number of bytes above ${HEADER_ROOM} (the broker connector's transport.maxFrameSize), not ${String(options.maxFrameSize)}`);
  }
  const connection = await openConnection(point, options.containerId ?? `msg-${nextId()}`);
  const broker = new Broker(connection, point.where, maxFrameSize, status, point.reconnectPeriod);
  try {
    const addresses = new Addresses(options.topicPrefix ?? DEFAULT_TOPIC_PREFIX);
    const requests = await Requests.open(broker, addresses);
    const base = options.confirm ? amqp1ConfirmCapabilities : amqp1Capabilities;
    const capabilities = maxFrameSize === DEFAULT_MAX_FRAME_SIZE ? base : { ...base, maxPayload: maxFrameSize - HEADER_ROOM };
    const confirmed = options.confirm ? { point, maxFrameSize, status } : undefined;
    return createTransport(new Amqp1Backend(broker, requests, addresses, capabilities, confirmed, status));
  } catch (error) {
    await broker.close();
    throw error;
  }
}

/** Options a URL may carry as its query: `?maxFrameSize=65536&topicPrefix=`. */
function fromUrl(url: URL, options: Amqp1Options | undefined, confirm: boolean): Promise<Transport> {
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  const query: Amqp1Options = {};
  const frame = url.searchParams.get('maxFrameSize');
  if (frame !== null) query.maxFrameSize = Number(frame);
  const prefix = url.searchParams.get('topicPrefix');
  if (prefix !== null) query.topicPrefix = prefix;
  return createAmqp1Transport({ url: `amqp1://${auth}${url.host || '127.0.0.1:5673'}`, ...query, ...options, confirm: options?.confirm ?? confirm });
}

/** `amqp1://host:port` (also `amqp1://USER:PASS@host:port`): at most once. */
export const amqp1Transport: TransportFactory<Amqp1Options> = {
  schemes: ['amqp1'],
  connect: (url, options) => fromUrl(url, options, false),
};

/** `amqp1+confirm://host:port`: the at-least-once profile. */
export const amqp1ConfirmTransport: TransportFactory<Amqp1Options> = {
  schemes: ['amqp1+confirm'],
  connect: (url, options) => fromUrl(url, options, true),
};

registerTransport(amqp1Transport);
registerTransport(amqp1ConfirmTransport);
