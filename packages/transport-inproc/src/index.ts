// The in-process transport: all four patterns with their real semantics, no server. Transports on
// the same hub name reach each other; payloads are copied so that sender and receiver never share
// memory, as over a wire.

import {
  type Backend,
  type BusLink,
  type Capabilities,
  type Deliver,
  type Message,
  type RequestCall,
  type Serve,
  type Stop,
  type Transport,
  type TransportFactory,
  NoRespondersError,
  StatusFeed,
  createTransport,
  registerTransport,
} from '@msg/core';
import { type BusEndpoint, type Hub, type Subscriber, RoundRobin, getOrCreate, hubNamed } from './hub.js';

export const inprocCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  delivery: 'at-most-once',
  ordering: 'per-publisher',
  durable: false,
  replay: false,
  maxPayload: 16 * 1024 * 1024,
  wildcards: true,
  headers: true,
  queueGroups: true,
  deadLetter: false,
  timing: { surveyDeadlineMs: 200, settleMs: 50 },
};

export interface InprocOptions {
  /** Transports on the same hub reach each other. Default `default`. */
  hub?: string;
}

function copy(message: Message): Message {
  return { id: message.id, subject: message.subject, data: message.data.slice(), headers: { ...message.headers } };
}

class InprocBackend implements Backend {
  readonly name = 'inproc';
  readonly capabilities = inprocCapabilities;
  /** Nothing to lose: no connection, and no work in the background. */
  readonly status = new StatusFeed('inproc');
  readonly #hub: Hub;

  constructor(hub: Hub) {
    this.#hub = hub;
  }

  request(call: RequestCall): void {
    const serve = this.#hub.repliers.get(call.message.subject)?.pick();
    if (!serve) return call.reject(new NoRespondersError(call.message.subject));
    // A reply after the call ended is ignored by the call itself: nothing to forget here.
    serve(copy(call.message)).then((reply) => call.resolve(copy(reply)), (error: unknown) => call.reject(error));
  }

  async reply(service: string, serve: Serve): Promise<Stop> {
    const group = getOrCreate(this.#hub.repliers, service, () => new RoundRobin<Serve>());
    group.add(serve);
    return async () => {
      group.remove(serve);
      if (group.members.length === 0 && this.#hub.repliers.get(service) === group) this.#hub.repliers.delete(service);
    };
  }

  publish(message: Message): void {
    for (const subscriber of this.#hub.subscribersOf(message.subject)) subscriber.deliver(copy(message));
  }

  async subscribe(pattern: string, deliver: Deliver, options: { queue?: string }): Promise<Stop> {
    const subscriber: Subscriber = { pattern, deliver, queue: options.queue };
    this.#hub.addSubscriber(subscriber);
    return async () => this.#hub.removeSubscriber(subscriber);
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    for (const serve of this.#hub.respondents.get(question.subject) ?? []) {
      void serve(copy(question)).then((answer) => {
        if (!signal.aborted) deliver(copy(answer));
      });
    }
  }

  async respond(topic: string, serve: Serve): Promise<Stop> {
    const set = getOrCreate(this.#hub.respondents, topic, () => new Set<Serve>());
    set.add(serve);
    return async () => {
      set.delete(serve);
    };
  }

  async join(group: string, deliver: Deliver): Promise<BusLink> {
    const members = getOrCreate(this.#hub.buses, group, () => new Set<BusEndpoint>());
    const self: BusEndpoint = { deliver };
    members.add(self);
    return {
      send: async (message) => {
        for (const member of members) if (member !== self) member.deliver(copy(message));
      },
      leave: async () => {
        members.delete(self);
      },
    };
  }

  async close(): Promise<void> {
    // Every registration was removed by the core's stop of each subscription.
  }
}

/** A transport on the in-process hub `options.hub`. */
export async function createInprocTransport(options: InprocOptions = {}): Promise<Transport> {
  return createTransport(new InprocBackend(hubNamed(options.hub ?? 'default')));
}

/** `inproc://NAME` connects to hub NAME (`inproc://` alone: the default hub). */
export const inprocTransport: TransportFactory<InprocOptions> = {
  schemes: ['inproc'],
  connect: (url, options) => createInprocTransport({ hub: url.hostname || url.pathname.replace(/^\/+/, '') || 'default', ...options }),
};

registerTransport(inprocTransport);
