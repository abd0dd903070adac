// One connection to RabbitMQ, kept up. amqplib's recovery reconnects with backoff; every channel we
// keep (the publisher's, the reply inbox's, each consumer's) is opened again on the new connection,
// and again on the same connection when the broker closed just that channel (a channel error).

import { ConnectionError, type MsgError, type StatusFeed } from '@msg/core';
import { type Channel, type ChannelModel, type ConfirmChannel, type Options, type RecoveringChannelModel, type SocketOptions, connect } from 'amqplib';
import { scrub, toCoreError } from './errors.js';

export interface ChannelRole {
  /** What the channel is for, as errors say it: `publishing`, `serving "orders"`. */
  readonly purpose: string;
  /** Publisher confirms on this channel. */
  readonly confirm?: boolean;
  /** Prepares a fresh channel: declares, binds, consumes. */
  setup(channel: Channel): Promise<void>;
  /** The channel is gone; what was in flight on it will not complete. */
  lost?(error: MsgError): void;
}

export interface Node {
  readonly hostname: string;
  readonly port: number;
}

export interface ConnectionSettings {
  /** Where the next connection goes: its hostname and port are those of the node being tried. */
  readonly server: Options.Connect;
  /** Every node that may be tried, in turn (one, unless the broker is a cluster). */
  readonly nodes: readonly Node[];
  readonly socket: SocketOptions;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  /** Strings that never appear in errors: the password. */
  readonly secrets: readonly string[];
  /** A node, without secrets, for messages: `amqp://user@host:port/vhost`. */
  readonly where: (node: Node) => string;
  /** The connection's losses and reconnects, and errors no caller waits for (a channel that could not be reopened). */
  readonly status: StatusFeed;
}

/** The one connection of a transport, as status events name it; channels are named by their purpose. */
const CONNECTION = 'connection';

// Why the broker closed a channel, kept until a publish confirm or a consumer asks.
const closeReasons = new WeakMap<Channel, Error>();

/** The broker's reason for closing `channel`, when it gave one. */
export function closeReason(channel: Channel): Error | undefined {
  return closeReasons.get(channel);
}

export class BrokerConnection {
  readonly settings: ConnectionSettings;
  #recovering: RecoveringChannelModel | undefined;
  #model: ChannelModel | undefined;
  #lost: MsgError | undefined;
  /** Set from a loss until the connection and its channels are back, for the `reconnected` event. */
  #reconnecting = false;
  #closing = false;
  /** Which of the settings' nodes the server points at. */
  #node = 0;
  readonly #kept = new Set<KeptChannel>();
  /** Work that must finish on the open connection before it closes (see KeptChannel.close). */
  readonly #finishing = new Set<Promise<void>>();

  private constructor(settings: ConnectionSettings) {
    this.settings = settings;
  }

  static async open(settings: ConnectionSettings): Promise<BrokerConnection> {
    const connection = new BrokerConnection(settings);
    await connection.#start();
    return connection;
  }

  /** The node being connected to (or last tried), for messages. */
  get where(): string {
    return this.settings.where(this.settings.nodes[this.#node]!);
  }

  /**
   * Points the next connection attempt at the next node. amqplib reads the server's hostname and
   * port afresh on each attempt of its recovery, so changing them is how it moves along a cluster.
   */
  #nextNode(): void {
    const { nodes, server } = this.settings;
    if (nodes.length < 2) return;
    this.#node = (this.#node + 1) % nodes.length;
    server.hostname = nodes[this.#node]!.hostname;
    server.port = nodes[this.#node]!.port;
  }

  async #start(): Promise<void> {
    const { initialDelayMs, maxDelayMs } = this.settings.reconnect;
    const recovering = await connect(this.settings.server, {
      ...this.settings.socket,
      recovery: {
        initialDelay: initialDelayMs,
        maxDelay: maxDelayMs,
        // The first connection tries each node once, then fails, so a wrong password or a dead
        // broker is reported to the caller instead of retried in the background forever.
        initialMaxRetries: this.settings.nodes.length - 1,
        waitForConnect: false,
        setup: (model: ChannelModel) => this.#restore(model),
      },
    });
    this.#recovering = recovering;
    const { status } = this.settings;
    recovering.on('error', () => undefined); // the 'disconnect' that follows reports it
    recovering.on('connect-failed', () => this.#nextNode());
    recovering.on('disconnect', (error: Error) => {
      this.#model = undefined;
      this.#lost = this.translate(error, `the connection to RabbitMQ at ${this.where} was lost; reconnecting`);
      this.#nextNode();
      this.#reconnecting = true;
      if (!this.#closing) status.emit({ type: 'disconnected', connection: CONNECTION, error: this.#lost });
    });
    recovering.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) => {
      if (!this.#closing) status.emit({ type: 'reconnecting', connection: CONNECTION, attempt, delayMs: delay });
    });
    recovering.on('reconnect-failed', (error: Error) => {
      if (!this.#closing) status.error(CONNECTION, this.translate(error, `reconnecting to RabbitMQ at ${this.where} gave up`));
    });
    recovering.on('blocked', (reason: string) => {
      status.error(CONNECTION, new ConnectionError(`RabbitMQ blocked the connection (${reason}): publishes wait until it unblocks`));
    });
    try {
      await recovering.waitForConnect();
    } catch (error) {
      // Never opened: the refusal below is the news, and there is nothing to close on a failure here.
      await recovering.close().catch(() => undefined);
      throw this.#refused(error);
    }
  }

  #refused(error: unknown): MsgError {
    const where = this.settings.nodes.length > 1 ? `any of ${this.settings.nodes.map((node) => this.settings.where(node)).join(', ')}` : this.where;
    const message = error instanceof Error ? scrub(error, this.settings.secrets).message : String(error);
    if (/ACCESS.REFUSED/.test(message)) {
      return new ConnectionError(`RabbitMQ at ${where} refused the login: wrong username or password, or no access to the vhost`, { cause: error });
    }
    return new ConnectionError(`could not connect to RabbitMQ at ${where}: ${message}`, { cause: error });
  }

  /** Runs on every new connection, before it is used: opens every kept channel on it again. */
  async #restore(model: ChannelModel): Promise<void> {
    let closed = false;
    model.on('error', () => undefined); // reported through the recovering wrapper's 'disconnect'
    model.once('close', () => (closed = true));
    for (const kept of this.#kept) {
      try {
        await kept.open(model);
      } catch (error) {
        this.settings.status.error(`channel for ${kept.purpose}`, this.translate(error, `reopening the channel for ${kept.purpose} after a reconnect`));
      }
    }
    // A connection that died while we restored would never report its close again: retry instead.
    if (closed) throw new Error('the connection closed while its channels were being restored');
    this.#model = model;
    this.#lost = undefined;
    if (this.#reconnecting && !this.#closing) this.settings.status.emit({ type: 'reconnected', connection: CONNECTION });
    this.#reconnecting = false;
  }

  translate(error: unknown, doing: string): MsgError {
    return toCoreError(scrub(error, this.settings.secrets), doing);
  }

  /** The error for an operation attempted while there is no connection. */
  notConnected(purpose: string): MsgError {
    if (this.#closing) return new ConnectionError(`${purpose}: the connection to RabbitMQ is closing`);
    return new ConnectionError(`${purpose}: not connected to RabbitMQ at ${this.where} (${this.#lost?.message ?? 'reconnecting'})`, { cause: this.#lost });
  }

  isCurrent(model: ChannelModel): boolean {
    return !this.#closing && this.#model === model;
  }

  /** Opens a channel for `role` now and keeps it open until closed. */
  async keep(role: ChannelRole): Promise<KeptChannel> {
    const model = this.#model;
    if (!model || this.#closing) throw this.notConnected(role.purpose);
    const kept = new KeptChannel(this, role);
    this.#kept.add(kept);
    try {
      await kept.open(model);
    } catch (error) {
      this.#kept.delete(kept);
      throw this.translate(error, role.purpose);
    }
    return kept;
  }

  forget(kept: KeptChannel): void {
    this.#kept.delete(kept);
  }

  /** Runs `work` on the next turn of the event loop; close waits for it. */
  later(work: () => Promise<void>): void {
    // `work` is a tidy-up that settles its own failures (see KeptChannel.close).
    const done = new Promise<void>((resolve) => setImmediate(resolve)).then(work).catch(() => undefined);
    this.#finishing.add(done);
    void done.then(() => this.#finishing.delete(done));
  }

  async close(): Promise<void> {
    this.#closing = true;
    // Each channel is closed before the connection: its close-ok comes after every frame sent on
    // it, so a publish that resolved just before close is not lost with the connection.
    await Promise.all([...this.#kept].map((kept) => kept.close()));
    await Promise.all(this.#finishing);
    // A connection that is down has nothing left to release, and close must not fail for it.
    await this.#recovering?.close().catch(() => undefined);
  }
}

/** A channel that is reopened when it is lost, until it is closed on purpose. */
export class KeptChannel {
  readonly #connection: BrokerConnection;
  readonly #role: ChannelRole;
  #current: Channel | undefined;
  /** The connection the current channel is on. */
  #model: ChannelModel | undefined;
  /** Settles once a channel the broker closed is open again (or will not be). */
  #reopening: Promise<void> | undefined;
  #stopped = false;

  constructor(connection: BrokerConnection, role: ChannelRole) {
    this.#connection = connection;
    this.#role = role;
  }

  get purpose(): string {
    return this.#role.purpose;
  }

  /** The open channel; throws ConnectionError while there is none (reconnecting). */
  get channel(): Channel {
    if (!this.#current) throw this.#connection.notConnected(this.#role.purpose);
    return this.#current;
  }

  /** The open channel, after waiting for one the broker closed to be reopened. */
  async ready(): Promise<Channel> {
    if (!this.#current && this.#reopening) await this.#reopening;
    return this.channel;
  }

  async open(model: ChannelModel): Promise<void> {
    const channel = this.#role.confirm ? await model.createConfirmChannel() : await model.createChannel();
    // amqplib emits 'error' when the broker closes a channel; without a listener it would throw.
    channel.on('error', (error: Error) => closeReasons.set(channel, error));
    channel.on('close', () => this.#closed(channel, model));
    try {
      await this.#role.setup(channel);
    } catch (error) {
      await channel.close().catch(() => undefined); // gone already: the setup's error is the news
      throw error;
    }
    if (this.#stopped) await channel.close().catch(() => undefined); // gone already (broker or connection)
    else {
      this.#current = channel;
      this.#model = model;
    }
  }

  /**
   * Replaces the open channel with a fresh one on the same connection, for broker state that lives
   * in a channel (see Publisher); the old one closes once the broker has confirmed what was sent on it.
   * Nothing happens when `old` is no longer the open channel (replaced or lost already).
   */
  async renew(old: Channel): Promise<void> {
    const model = this.#model;
    if (old !== this.#current || !model || this.#stopped || !this.#connection.isCurrent(model)) return;
    try {
      await this.open(model);
    } catch (error) {
      // A connection lost meanwhile reopens every kept channel when it is back: nothing to report.
      if (this.#connection.isCurrent(model)) throw error;
      return;
    }
    const confirmed = this.#role.confirm ? (old as ConfirmChannel).waitForConfirms() : Promise.resolve();
    // A confirm that failed was reported to its publisher; a close that fails finds the channel gone.
    void confirmed.catch(() => undefined).then(() => old.close().catch(() => undefined));
  }

  #closed(channel: Channel, model: ChannelModel): void {
    if (channel !== this.#current) return;
    this.#current = undefined;
    let reopened!: () => void;
    this.#reopening = new Promise<void>((resolve) => (reopened = resolve));
    // Deferred so that a lost connection is known (its 'disconnect' follows in the same tick) and
    // the channel is not reopened on a connection that is gone.
    setImmediate(() => {
      const reason = closeReason(channel);
      this.#role.lost?.(reason ? this.#connection.translate(reason, this.#role.purpose) : this.#connection.notConnected(this.#role.purpose));
      if (this.#stopped || !this.#connection.isCurrent(model)) {
        reopened();
        return;
      }
      this.open(model)
        .catch((error: unknown) => {
          this.#connection.settings.status.error(`channel for ${this.#role.purpose}`, this.#connection.translate(error, `reopening the channel for ${this.#role.purpose}`));
        })
        .finally(reopened);
    });
  }

  /**
   * Stops keeping the channel. `cancel` (stop consuming) runs on it now; `finish` (delete a queue)
   * and the close follow on the next turn: the core settles (acks or nacks) the messages it still
   * holds as soon as the stop resolves, and those settles need the channel open.
   */
  async close(cancel?: (channel: Channel) => Promise<unknown>, finish?: (channel: Channel) => Promise<unknown>): Promise<void> {
    this.#stopped = true;
    this.#connection.forget(this);
    const channel = this.#current;
    this.#current = undefined;
    if (!channel) return;
    // Each step fails only when the channel is gone already, and then so is what it would undo: a
    // consumer with it, a queue by its expiry.
    await cancel?.(channel).catch(() => undefined); // the consumer went with the channel
    this.#connection.later(async () => {
      await finish?.(channel).catch(() => undefined); // the queue goes by its expiry
      await channel.close().catch(() => undefined); // closed already
    });
  }
}
