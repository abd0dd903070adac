// The MQTT 5 transport: request/reply, publish/subscribe, survey and bus at QoS 0 (`mqtt://`), and
// an at-least-once profile whose publish/subscribe runs at QoS 1 on persistent sessions (`mqtt+qos1://`).

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
  StatusFeed,
  createTransport,
  nextId,
  registerTransport,
} from '@msg/core';
import { Broker } from './broker.js';
import { join } from './bus.js';
import { type Endpoint, type MqttConnectionOptions, endpoint, openClient, watch } from './connection.js';
import { type SessionSettings, subscribe, subscribeConfirmed } from './pubsub.js';
import { Requests, reply, respond } from './reqrep.js';
import { HEADER_ROOM, ID_PROPERTY, PROTOCOL_MAX_PACKET, toTopic, toUserProperties } from './wire.js';

export type { MqttConnectionOptions } from './connection.js';
export { HEADER_ROOM, PROTOCOL_MAX_PACKET };

/**
 * QoS 0: nothing stored, nothing sent twice; order kept per publisher and topic. The declared
 * maximum is for a broker that sets no Maximum Packet Size (Mosquitto's default): MQTT's own limit
 * less HEADER_ROOM. A broker that sets one lowers it (see createMqttTransport).
 */
export const mqttCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  delivery: 'at-most-once',
  ordering: 'per-publisher',
  durable: false,
  replay: false,
  maxPayload: PROTOCOL_MAX_PACKET - HEADER_ROOM,
  wildcards: true,
  headers: true,
  queueGroups: true,
  deadLetter: false,
  timing: { surveyDeadlineMs: 500, settleMs: 100 },
};

/**
 * The at-least-once profile: publish/subscribe at QoS 1 with persistent sessions, acknowledged once
 * handled, durable by name. Request/reply and survey stay at QoS 0 (an answer is wanted now or not
 * at all). No bus: its messages would be at most once, which this profile does not promise.
 */
export const mqttQos1Capabilities: Capabilities = {
  ...mqttCapabilities,
  patterns: ['request', 'publish', 'survey'],
  delivery: 'at-least-once',
  durable: true,
  deadLetter: true,
  timing: { surveyDeadlineMs: 500, settleMs: 200 },
};

export interface MqttOptions extends MqttConnectionOptions {
  /** 1 selects the at-least-once profile. Default 0. */
  qos?: 0 | 1;
  /** QoS 1: seconds the broker keeps a durable subscription's session while nobody is connected to it. Default 86,400 (a day). */
  durableSessionSeconds?: number;
  /** QoS 1: seconds it keeps a plain subscription's session after its process vanished without unsubscribing. Default 300. */
  idleSessionSeconds?: number;
}

class MqttBackend implements Backend {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly status: StatusFeed;
  readonly #broker: Broker;
  readonly #requests: Requests;
  readonly #point: Endpoint;
  /** Set in the at-least-once profile. */
  readonly #sessions: SessionSettings | undefined;

  constructor(broker: Broker, requests: Requests, point: Endpoint, capabilities: Capabilities, sessions: SessionSettings | undefined, status: StatusFeed) {
    this.name = sessions ? 'mqtt+qos1' : 'mqtt';
    this.capabilities = capabilities;
    this.status = status;
    this.#broker = broker;
    this.#requests = requests;
    this.#point = point;
    this.#sessions = sessions;
    // A lost connection fails the requests in flight at once instead of letting each time out.
    broker.client.on('close', () => requests.failAll());
  }

  request(call: RequestCall): void {
    this.#requests.request(call);
  }

  reply(service: string, serve: Serve): Promise<Stop> {
    return reply(this.#broker, service, serve);
  }

  publish(message: Message): void | Promise<void> {
    const topic = toTopic(message.subject);
    const what = `publish to "${message.subject}"`;
    if (this.#sessions) {
      return this.#broker.sendConfirmed(topic, message.data, { userProperties: toUserProperties(message.headers, { [ID_PROPERTY]: message.id }) }, what);
    }
    const userProperties = toUserProperties(message.headers);
    this.#broker.send(topic, message.data, userProperties ? { userProperties } : {}, what);
  }

  subscribe(pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
    if (this.#sessions) return subscribeConfirmed(this.#point, pattern, deliver, options, this.#sessions);
    return subscribe(this.#broker, pattern, deliver, options);
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    this.#requests.survey(question, deliver, signal);
  }

  respond(topic: string, serve: Serve): Promise<Stop> {
    return respond(this.#broker, topic, serve);
  }

  join(group: string, deliver: Deliver): Promise<BusLink> {
    return join(this.#broker, group, deliver);
  }

  async close(): Promise<void> {
    // Unsubscribing the reply inbox fails when the connection is down; ending it, next, drops it anyway.
    await this.#requests.stop().catch(() => undefined);
    await this.#broker.close();
  }
}

/**
 * Connects to an MQTT 5 broker. With `qos: 1`, the at-least-once profile (see mqttQos1Capabilities).
 * The declared `maxPayload` is the broker's Maximum Packet Size from CONNACK (MQTT's own limit when
 * it sends none) less HEADER_ROOM.
 */
export async function createMqttTransport(options: MqttOptions = {}): Promise<Transport> {
  const point = endpoint(options);
  const status = new StatusFeed(options.qos === 1 ? 'mqtt+qos1' : 'mqtt');
  const { client } = await openClient(point, { clientId: options.clientId ?? `msg-${nextId()}`, clean: true });
  watch(client, `the connection to ${point.where}`, status);
  try {
    const packetLimit = Math.min(client.serverProperties?.maximumPacketSize ?? PROTOCOL_MAX_PACKET, PROTOCOL_MAX_PACKET);
    const base = options.qos === 1 ? mqttQos1Capabilities : mqttCapabilities;
    const capabilities = packetLimit === PROTOCOL_MAX_PACKET ? base : { ...base, maxPayload: packetLimit - HEADER_ROOM };
    const broker = new Broker(client, point.where, packetLimit);
    const requests = await Requests.open(broker);
    const sessions =
      options.qos === 1 ? { durableSeconds: options.durableSessionSeconds ?? 86_400, idleSeconds: options.idleSessionSeconds ?? 300, status } : undefined;
    return createTransport(new MqttBackend(broker, requests, point, capabilities, sessions, status));
  } catch (error) {
    client.end(true);
    throw error;
  }
}

function fromUrl(url: URL, options: MqttOptions | undefined, qos: 0 | 1): Promise<Transport> {
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  return createMqttTransport({ url: `mqtt://${auth}${url.host || '127.0.0.1:1883'}`, ...options, qos: options?.qos ?? qos });
}

/** `mqtt://host:port` (also `mqtt://USER:PASS@host:port`): QoS 0. */
export const mqttTransport: TransportFactory<MqttOptions> = {
  schemes: ['mqtt'],
  connect: (url, options) => fromUrl(url, options, 0),
};

/** `mqtt+qos1://host:port`: the at-least-once profile. */
export const mqttQos1Transport: TransportFactory<MqttOptions> = {
  schemes: ['mqtt+qos1'],
  connect: (url, options) => fromUrl(url, options, 1),
};

registerTransport(mqttTransport);
registerTransport(mqttQos1Transport);
