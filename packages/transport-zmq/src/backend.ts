// The four patterns of one ZeroMQ transport, each mapped onto its sockets (see the file of each).

import type { Backend, BusLink, Deliver, Message, RequestCall, Serve, StatusFeed, Stop } from '@msg/core';
import { join } from './bus.js';
import { type Directory, type Discovering, type GivenEndpoints, sendWhenServed } from '@msg/discovery';
import { type Publishing, type Subscriptions, publishFrames, subscribe } from './pubsub.js';
import { type Front, type Requester, serve } from './reqrep.js';
import { type SocketSettings, closeBinding } from './sockets.js';
import type { Answers, Surveys } from './survey.js';
import type { Capabilities } from '@msg/core';

export interface Parts {
  capabilities: Capabilities;
  directory: Directory;
  settings: SocketSettings;
  bind: string;
  workers: number;
  endpoints: GivenEndpoints;
  /** The ROUTER bound at creation on the given endpoints (pattern `reply`), for the first reply. */
  front: Front | undefined;
  publishing: Publishing;
  /** Lists nothing once called: this transport's publisher leaves the directory. */
  unlist: () => void;
  /** The discovery this transport takes part in, if any. */
  discovering: Discovering | undefined;
  subscriptions: Subscriptions;
  requester: Requester;
  surveys: Surveys;
  answers: Answers;
}

export class ZmqBackend implements Backend {
  readonly name = 'zmq';
  readonly capabilities: Capabilities;
  readonly status: StatusFeed;
  #parts: Parts;
  /** Set while the publisher binds the hand-given endpoints, so that nothing is sent before. */
  #publisherBinding: Promise<void> | undefined;

  constructor(parts: Parts) {
    this.#parts = parts;
    this.capabilities = parts.capabilities;
    this.status = parts.settings.status;
  }

  request(call: RequestCall): void {
    const { endpoints, requester, directory, discovering } = this.#parts;
    endpoints.asRepliers(call.message.subject);
    sendWhenServed(directory, discovering, call, () => requester.request(call));
  }

  reply(service: string, handler: Serve): Promise<Stop> {
    const { directory, settings, bind, workers, endpoints, front } = this.#parts;
    this.#parts.front = undefined;
    return serve(service, handler, { directory, settings, bind, exact: front ? [] : endpoints.takeBind(), front, workers });
  }

  publish(message: Message): Promise<void> {
    const frames = publishFrames(message);
    const binding = this.#bindPublisher();
    return binding ? binding.then(() => this.#parts.publishing.send(frames)) : this.#parts.publishing.send(frames);
  }

  async subscribe(pattern: string, deliver: Deliver): Promise<Stop> {
    this.#parts.endpoints.asPeers('publish');
    const stop = await subscribe(this.#parts.subscriptions, pattern, deliver);
    return async () => stop();
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    await this.#bindPublisher();
    return this.#parts.surveys.survey(this.#parts.publishing, question, deliver, signal);
  }

  respond(topic: string, handler: Serve): Promise<Stop> {
    this.#parts.endpoints.asPeers('publish');
    return this.#parts.answers.respond(this.#parts.subscriptions, topic, handler);
  }

  async join(group: string, deliver: Deliver): Promise<BusLink> {
    this.#parts.endpoints.asPeers('publish');
    await this.#bindPublisher();
    return join(this.#parts.publishing, this.#parts.subscriptions, group, deliver);
  }

  /**
   * Binds the hand-given endpoints on the publisher when publish, survey or bus first needs it
   * (unless a replier took them); undefined once there is nothing to wait for.
   */
  #bindPublisher(): Promise<void> | undefined {
    if (this.#publisherBinding) return this.#publisherBinding;
    const endpoints = this.#parts.endpoints.takeBind();
    if (endpoints.length === 0) return undefined;
    this.#publisherBinding = this.#parts.publishing.bindAlso(endpoints).finally(() => (this.#publisherBinding = undefined));
    return this.#publisherBinding;
  }

  async close(): Promise<void> {
    const { publishing, subscriptions, requester, surveys, answers, settings, front, unlist, discovering } = this.#parts;
    unlist();
    await discovering?.release();
    if (front) closeBinding(front.router, settings);
    requester.close();
    answers.close();
    await surveys.close();
    subscriptions.close();
    publishing.close();
    settings.guard?.close();
  }
}
