// The Redis backend: two shared connections (commands, subscriptions) plus one blocking connection
// per replier or stream subscription, and the routing of the inbox. Each pattern lives in its file.

import { randomUUID } from 'node:crypto';
import {
  BadFrameError,
  type Backend,
  type BackendSubscribeOptions,
  type BusLink,
  type Capabilities,
  ConnectionError,
  type Deliver,
  Kind,
  type Message,
  type RequestCall,
  type Serve,
  type StatusFeed,
  type Stop,
  decodeEnvelope,
} from '@msg/core';
import type { Redis } from 'ioredis';
import { join } from './bus.js';
import { Channels } from './channels.js';
import { type ServerSettings, closeConnection, connectionError, dropConnection, openConnection, where } from './connection.js';
import { type PubSubContext, publish, subscribe } from './pubsub.js';
import { Requests, definePushScript } from './reqrep.js';
import { type StreamContext, publishToStream, subscribeToStream } from './streams.js';
import { Surveys } from './survey.js';
import { Names } from './wire.js';

export interface BackendSettings {
  server: ServerSettings;
  capabilities: Capabilities;
  /** Streams (durable, at-least-once) or plain pub/sub for publish/subscribe. */
  streams: boolean;
  prefix: string;
  maxStreamLength: number;
  keyExpiryMs: number;
  claimIdleMs: number;
  /** A stream publish resolves once this many replicas confirmed the entry (WAIT); 0: once the master has it. */
  replicaAcks: number;
  replyConcurrency: number;
}

export class RedisBackend implements Backend {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly status: StatusFeed;
  readonly #settings: BackendSettings;
  readonly #command: Redis;
  readonly #subscriber: Redis;
  readonly #channels: Channels;
  readonly #names: Names;
  readonly #inboxChannel: string;
  readonly #blocking = new Set<Redis>();
  readonly #requests: Requests;
  readonly #surveys: Surveys;
  readonly #streams: StreamContext;
  readonly #pubsub: PubSubContext;
  #inbox: Promise<string> | undefined;

  static async open(settings: BackendSettings): Promise<RedisBackend> {
    const command = await openConnection(settings.server, 'command');
    let subscriber: Redis;
    try {
      subscriber = await openConnection(settings.server, 'subscriber');
    } catch (error) {
      await closeConnection(command);
      throw error;
    }
    return new RedisBackend(settings, command, subscriber);
  }

  private constructor(settings: BackendSettings, command: Redis, subscriber: Redis) {
    this.name = settings.streams ? 'redis+streams' : 'redis';
    this.capabilities = settings.capabilities;
    this.status = settings.server.status;
    this.#settings = settings;
    this.#command = command;
    this.#subscriber = subscriber;
    this.#channels = new Channels(subscriber);
    this.#names = new Names(settings.prefix, settings.server.cluster !== undefined);
    this.#inboxChannel = this.#names.inbox(randomUUID());
    const onBadFrame = (error: unknown, connection?: string) => this.#onBadFrame(error, connection);
    const inbox = () => this.#listenInbox();
    this.#requests = new Requests({
      settings: settings.server,
      names: this.#names,
      command: definePushScript(command, settings.server.cluster !== undefined),
      channels: this.#channels,
      inbox,
      requestExpiryMs: settings.keyExpiryMs,
      replyConcurrency: settings.replyConcurrency,
      onBadFrame,
      blocking: this.#blocking,
    });
    this.#pubsub = { names: this.#names, command, channels: this.#channels, onBadFrame };
    this.#surveys = new Surveys({ ...this.#pubsub, inbox });
    this.#streams = {
      settings: settings.server,
      names: this.#names,
      command,
      maxStreamLength: settings.maxStreamLength,
      keyExpiryMs: settings.keyExpiryMs,
      claimIdleMs: settings.claimIdleMs,
      replicaAcks: settings.replicaAcks,
      onBadFrame,
      onGroupLost: (key, group) => this.#onGroupLost(key, group),
      blocking: this.#blocking,
    };
    // Replies published while the inbox was disconnected are gone: fail the waiting requests now
    // rather than at their timeout.
    this.#channels.onLost(() => {
      if (this.#requests.pending.size === 0) return;
      this.#requests.pending.rejectAll(
        new ConnectionError(`${where(settings.server)}: the connection was lost while waiting for the reply; the request may or may not have been served`),
      );
    });
  }

  request(call: RequestCall): Promise<void> {
    return this.#requests.request(call);
  }

  reply(service: string, serve: Serve): Promise<Stop> {
    return this.#requests.reply(service, serve);
  }

  async publish(message: Message): Promise<void> {
    try {
      if (this.#settings.streams) await publishToStream(this.#streams, message);
      else await publish(this.#pubsub, message);
    } catch (error) {
      throw connectionError(this.#settings.server, `publishing to "${message.subject}" failed`, error);
    }
  }

  async subscribe(pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
    if (this.#settings.streams) return subscribeToStream(this.#streams, pattern, deliver, options);
    try {
      return await subscribe(this.#pubsub, pattern, deliver);
    } catch (error) {
      throw connectionError(this.#settings.server, `subscribing to "${pattern}" failed`, error);
    }
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    try {
      await this.#surveys.survey(question, deliver, signal);
    } catch (error) {
      throw connectionError(this.#settings.server, `sending the survey on "${question.subject}" failed`, error);
    }
  }

  async respond(topic: string, serve: Serve): Promise<Stop> {
    try {
      return await this.#surveys.respond(topic, serve);
    } catch (error) {
      throw connectionError(this.#settings.server, `responding on "${topic}" failed`, error);
    }
  }

  async join(group: string, deliver: Deliver): Promise<BusLink> {
    try {
      const link = await join(this.#pubsub, group, deliver);
      return {
        send: (message) =>
          link.send(message).catch((error: unknown) => {
            throw connectionError(this.#settings.server, `sending on the bus "${group}" failed`, error);
          }),
        leave: link.leave,
      };
    } catch (error) {
      throw connectionError(this.#settings.server, `joining the bus "${group}" failed`, error);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#blocking].map(dropConnection));
    this.#blocking.clear();
    await Promise.all([closeConnection(this.#subscriber), closeConnection(this.#command)]);
  }

  /** Subscribes this transport's inbox, once; it carries replies and survey answers. */
  #listenInbox(): Promise<string> {
    this.#inbox ??= this.#channels
      .listen(this.#inboxChannel, (payload) => this.#fromInbox(payload))
      .then(() => this.#inboxChannel);
    this.#inbox.catch(() => (this.#inbox = undefined));
    return this.#inbox;
  }

  #fromInbox(payload: Buffer): void {
    try {
      const { kind, message } = decodeEnvelope(payload);
      if (kind === Kind.reply) this.#requests.resolve(message);
      else if (kind === Kind.answer) this.#surveys.answer(message);
      else this.#onBadFrame(new Error(`unexpected envelope kind ${kind} in the inbox`));
    } catch (error) {
      this.#onBadFrame(error);
    }
  }

  /** A frame that does not decode is dropped, never fatal, and reported. */
  #onBadFrame(error: unknown, connection = 'subscriber'): void {
    const detail = error instanceof Error ? error.message : String(error);
    this.status.error(connection, new BadFrameError(`redis: dropped a message that is not a valid msg frame: ${detail}`, { cause: error }));
  }

  /** A consumer group found gone (a server that lost its data loses every group at once) is created again, and reported. */
  #onGroupLost(key: string, group: string): void {
    this.status.error(
      `stream "${key}"`,
      new ConnectionError(
        `redis: the consumer group "${group}" of stream "${key}" was gone (the server lost its data, or the key expired or was deleted); ` +
          'created it again where the subscription stopped reading: entries it held unacknowledged, and entries written before the loss and not read yet, are lost',
      ),
    );
  }
}
