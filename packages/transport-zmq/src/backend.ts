// The four patterns of one ZeroMQ transport, each mapped onto its sockets (see the file of each).

import type { Backend, BusLink, Deliver, Message, Serve, Stop } from '@msg/core';
import { join } from './bus.js';
import type { Directory } from './directory.js';
import { type Publishing, type Subscriptions, publishFrames, subscribe } from './pubsub.js';
import { type Requester, serve } from './reqrep.js';
import type { SocketSettings } from './sockets.js';
import type { Answers, Surveys } from './survey.js';
import type { Capabilities } from '@msg/core';

export interface Parts {
  capabilities: Capabilities;
  directory: Directory;
  settings: SocketSettings;
  bind: string;
  workers: number;
  publishing: Publishing;
  subscriptions: Subscriptions;
  requester: Requester;
  surveys: Surveys;
  answers: Answers;
}

export class ZmqBackend implements Backend {
  readonly name = 'zmq';
  readonly capabilities: Capabilities;
  #parts: Parts;

  constructor(parts: Parts) {
    this.#parts = parts;
    this.capabilities = parts.capabilities;
  }

  request(request: Message, signal: AbortSignal): Promise<Message> {
    return this.#parts.requester.request(request, signal);
  }

  reply(service: string, handler: Serve): Promise<Stop> {
    const { directory, settings, bind, workers } = this.#parts;
    return serve(service, handler, { directory, settings, bind, workers });
  }

  publish(message: Message): Promise<void> {
    return this.#parts.publishing.send(publishFrames(message));
  }

  async subscribe(pattern: string, deliver: Deliver): Promise<Stop> {
    const stop = await subscribe(this.#parts.subscriptions, pattern, deliver);
    return async () => stop();
  }

  survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    return this.#parts.surveys.survey(this.#parts.publishing, question, deliver, signal);
  }

  respond(topic: string, handler: Serve): Promise<Stop> {
    return this.#parts.answers.respond(this.#parts.subscriptions, topic, handler);
  }

  join(group: string, deliver: Deliver): Promise<BusLink> {
    return join(this.#parts.publishing, this.#parts.subscriptions, group, deliver);
  }

  async close(): Promise<void> {
    const { directory, publishing, subscriptions, requester, surveys, answers } = this.#parts;
    directory.removePublisher(publishing.endpoint);
    requester.close();
    answers.close();
    await surveys.close();
    subscriptions.close();
    publishing.close();
  }
}
