// A client of a hosting node: every pattern on one bidirectional Stream (requests optionally as
// unary calls). The stream is re-opened whenever it is lost, and the registrations are sent again.

import { type Client, type ClientDuplexStream, Metadata, type ServiceError, connectivityState } from '@grpc/grpc-js';
import {
  type Backend,
  type BusLink,
  type Capabilities,
  ClosedError,
  ConnectionError,
  type Deliver,
  type Message,
  type RequestCall,
  PayloadTooLargeError,
  PendingReplies,
  type Serve,
  StatusFeed,
  type Stop,
} from '@msg/core';
import { fromFailure, fromGrpcError } from './errors.js';
import { type GrpcOptions, clientChannelOptions, clientCredentials, messageLimit } from './options.js';
import { MessagingClient } from './proto.js';
import { InOrder, Outbox, Window } from './stream.js';
import { type Envelope, type Frame, type Open, type Role, toEnvelope, toMessage, wireSize } from './wire.js';

const DEFAULT_WINDOW = 1024;
const DEFAULT_MAX_QUEUED = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_CLOSE_TIMEOUT_MS = 2000;
const MAX_REOPEN_DELAY_MS = 2000;

interface Registration {
  readonly open: Open;
  readonly deliver?: Deliver;
  readonly serve?: Serve;
}

interface Acking {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The one stream of a client, as status events name it. */
const CONNECTION = 'stream to the host';

type MessagingStub = Client & {
  Stream(metadata: Metadata): ClientDuplexStream<Frame, Frame>;
  Request(request: Envelope, options: { deadline: number }, callback: (error: ServiceError | null, reply?: Envelope) => void): { cancel(): void };
};

export class ClientBackend implements Backend {
  readonly name = 'grpc';
  readonly capabilities: Capabilities;
  readonly status = new StatusFeed('grpc');
  readonly #client: MessagingStub;
  readonly #limit: number;
  readonly #unary: boolean;
  readonly #closeTimeout: number;
  readonly #outbox: Outbox;
  readonly #window: Window;
  readonly #replies: InOrder | undefined;
  readonly #registrations = new Map<number, Registration>();
  readonly #acks = new Map<number, Acking>();
  readonly #requests = new PendingReplies();
  readonly #surveys = new Map<number, Deliver>();
  #stream: ClientDuplexStream<Frame, Frame> | undefined;
  /** The receiver loop of `#stream`: it ends when the host ends its side, or the stream is lost. */
  #receiving: Promise<void> = Promise.resolve();
  #nextRef = 0;
  #nextCall = 0;
  #reopenDelay = 0;
  #reopenTimer: NodeJS.Timeout | undefined;
  /** Reopen attempts since the stream was lost; 0 while it is up. */
  #attempt = 0;
  #closed = false;

  private constructor(client: MessagingStub, capabilities: Capabilities, options: GrpcOptions) {
    this.#client = client;
    this.capabilities = capabilities;
    this.#limit = messageLimit(capabilities.maxPayload);
    this.#unary = options.unary ?? false;
    this.#closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#outbox = new Outbox(options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.#window = new Window(options.window ?? DEFAULT_WINDOW);
    this.#replies = options.ordered ? new InOrder((frame) => this.#outbox.force(frame)) : undefined;
  }

  /** Connects to the host at `target` (`host:port`); fails with ConnectionError if it cannot be reached. */
  static async connect(target: string, capabilities: Capabilities, options: GrpcOptions): Promise<ClientBackend> {
    const client = new MessagingClient(target, clientCredentials(options), clientChannelOptions(options)) as unknown as MessagingStub;
    try {
      await ready(client, Date.now() + (options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS), target);
    } catch (error) {
      client.close();
      throw error;
    }
    const backend = new ClientBackend(client, capabilities, options);
    backend.#open();
    return backend;
  }

  // -- the stream -----------------------------------------------------------------------------

  #open(): void {
    // waitForReady: while the host is away the call waits for it instead of failing at once.
    const stream = this.#client.Stream(new Metadata({ waitForReady: true }));
    this.#stream = stream;
    // The receiver loop sees the failure; this keeps a late second 'error' from being unhandled.
    stream.on('error', () => undefined);
    this.#outbox.attach(stream);
    for (const [ref, registration] of this.#registrations) this.#outbox.force({ open: registration.open, ref });
    this.#receiving = this.#receive(stream);
  }

  /** The receiver loop: dispatches each frame as it arrives, independent of what is being sent. */
  async #receive(stream: ClientDuplexStream<Frame, Frame>): Promise<void> {
    let reason: unknown;
    try {
      for await (const frame of stream as AsyncIterable<Frame>) {
        this.#reopenDelay = 0;
        this.#dispatch(frame);
      }
    } catch (error) {
      reason = error;
    }
    if (this.#closed) return;
    this.#lost(reason);
  }

  /** The stream is gone: what was in flight on it fails, and a new one is opened. */
  #lost(reason: unknown): void {
    this.#outbox.detach();
    this.#replies?.reset();
    // The host forgot every registration with the stream: a Close still unanswered is done.
    for (const [ref, acking] of this.#acks) {
      if (this.#registrations.has(ref)) continue;
      this.#acks.delete(ref);
      acking.resolve();
    }
    const error = reason === undefined ? new ConnectionError('grpc: the host ended the stream') : fromGrpcError(reason, 'the host', 0, this.#limit);
    const lost = error.code === 'CONNECTION' ? error : new ConnectionError(error.message, { cause: reason });
    this.#requests.rejectAll(lost);
    this.#surveys.clear();
    if (this.#attempt === 0) this.status.emit({ type: 'disconnected', connection: CONNECTION, error: lost });
    const delayMs = this.#reopenDelay;
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      if (this.#closed) return;
      this.status.emit({ type: 'reconnecting', connection: CONNECTION, attempt: ++this.#attempt, delayMs });
      this.#open();
      this.#untilReady();
    }, delayMs);
    this.#reopenDelay = Math.min(MAX_REOPEN_DELAY_MS, this.#reopenDelay * 2 || 100);
  }

  /** After a reopen: `reconnected` once the channel to the host is ready again (the stream waits for it). */
  #untilReady(): void {
    const channel = this.#client.getChannel();
    const check = () => {
      if (this.#closed || this.#attempt === 0) return;
      const state = channel.getConnectivityState(true);
      if (state !== connectivityState.READY) return channel.watchConnectivityState(state, Infinity, check);
      this.#attempt = 0;
      this.status.emit({ type: 'reconnected', connection: CONNECTION });
    };
    check();
  }

  #dispatch(frame: Frame): void {
    const ref = frame.ref ?? 0;
    const call = frame.call ?? 0;
    if (frame.envelope) return this.#receiveEnvelope(frame.envelope, ref, call);
    if (frame.ack) {
      this.#acks.get(ref)?.resolve();
      this.#acks.delete(ref);
    } else if (frame.failure) {
      const registration = this.#registrations.get(ref);
      const acking = ref !== 0 ? this.#acks.get(ref) : undefined;
      if (acking) {
        this.#acks.delete(ref);
        this.#registrations.delete(ref);
        acking.reject(fromFailure(frame.failure, registration?.open.subject ?? ''));
      } else {
        this.#requests.reject(String(call), fromFailure(frame.failure, ''));
      }
    }
  }

  #receiveEnvelope(envelope: Envelope, ref: number, call: number): void {
    switch (envelope.kind) {
      case 'REPLY':
        this.#requests.resolve(String(call), toMessage(envelope));
        return;
      case 'ANSWER':
        this.#surveys.get(call)?.(toMessage(envelope));
        return;
      case 'PUBLISH':
      case 'BUS':
        this.#registrations.get(ref)?.deliver?.(toMessage(envelope));
        return;
      case 'REQUEST':
      case 'SURVEY': {
        const serve = this.#registrations.get(ref)?.serve;
        if (!serve) return;
        const kind = envelope.kind === 'REQUEST' ? 'REPLY' : 'ANSWER';
        const send = this.#replies?.reserve() ?? ((frame: Frame) => this.#outbox.force(frame));
        void serve(toMessage(envelope)).then((answer) => send({ envelope: toEnvelope(kind, answer), call }));
        return;
      }
      default:
    }
  }

  // -- registrations --------------------------------------------------------------------------

  /** Registers with the host and resolves once the host has it in effect. */
  async #register(role: Role, subject: string, extra: Omit<Registration, 'open'>, queue = ''): Promise<number> {
    if (this.#closed) throw new ClosedError();
    const ref = (this.#nextRef = (this.#nextRef + 1) >>> 0);
    const acked = new Promise<void>((resolve, reject) => this.#acks.set(ref, { resolve, reject }));
    this.#registrations.set(ref, { open: { role, subject, queue }, ...extra });
    this.#outbox.force({ open: { role, subject, queue }, ref });
    await acked;
    return ref;
  }

  /**
   * Nothing reaches the registration once it is deleted here; the host's Ack says it stopped
   * routing to it. A host that does not answer (frozen, or gone unnoticed) is waited for at most
   * `closeTimeout`, so that leaving, and so closing, never hangs on it.
   */
  #unregister(ref: number): Stop {
    return async () => {
      if (!this.#registrations.delete(ref) || this.#closed) return;
      let acking!: Acking;
      const acked = new Promise<void>((resolve, reject) => this.#acks.set(ref, (acking = { resolve, reject })));
      this.#outbox.force({ close: {}, ref });
      await within(acked, this.#closeTimeout);
      if (this.#acks.get(ref) === acking) this.#acks.delete(ref);
    };
  }

  // -- the patterns ---------------------------------------------------------------------------

  #check(message: Message): void {
    const size = wireSize(message);
    if (size > this.#limit) throw new PayloadTooLargeError(size, this.#limit);
  }

  request(call: RequestCall): void | Promise<void> {
    this.#check(call.message);
    if (this.#unary) return this.#requestUnary(call);
    // Waits only when the window is full: an await per step is a promise and a microtask per
    // request on the hot path.
    if (this.#window.tryAcquire()) return this.#send(call);
    const waiting = new AbortController();
    call.onCancel((reason) => waiting.abort(reason));
    return this.#window.acquire(waiting.signal).then(() => {
      if (call.done) this.#window.release();
      else return this.#send(call);
    });
  }

  /** Sends a request that holds a window place; the place is given back however the request ends. */
  #send(call: RequestCall): void | Promise<void> {
    const id = (this.#nextCall = (this.#nextCall + 1) >>> 0);
    const key = String(id);
    this.#requests.add(key, call, (cancelled) => {
      this.#window.release();
      if (cancelled) this.#outbox.force({ cancel: {}, call: id });
    });
    const frame: Frame = { envelope: toEnvelope('REQUEST', call.message), call: id };
    if (!this.#outbox.tryPut(frame)) return this.#outbox.put(frame).catch((error: unknown) => void this.#requests.reject(key, error));
  }

  /** One unary call: the core's deadline is the gRPC deadline, and a cancel cancels the call. */
  #requestUnary(call: RequestCall): void {
    const request = call.message;
    const unary = this.#client.Request(toEnvelope('REQUEST', request), { deadline: call.deadline }, (error, reply) => {
      if (call.done) return; // ended already, with the core's reason
      if (error || !reply) call.reject(fromGrpcError(error, request.subject, wireSize(request), this.#limit));
      else call.resolve(toMessage(reply));
    });
    call.onCancel(() => unary.cancel());
  }

  async reply(service: string, serve: Serve): Promise<Stop> {
    return this.#unregister(await this.#register('REPLIER', service, { serve }));
  }

  publish(message: Message): void | Promise<void> {
    if (this.#closed) throw new ClosedError();
    this.#check(message);
    const frame: Frame = { envelope: toEnvelope('PUBLISH', message) };
    if (!this.#outbox.tryPut(frame)) return this.#outbox.put(frame);
  }

  async subscribe(pattern: string, deliver: Deliver, options: { queue?: string }): Promise<Stop> {
    return this.#unregister(await this.#register('SUBSCRIBER', pattern, { deliver }, options.queue ?? ''));
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    this.#check(question);
    const call = (this.#nextCall = (this.#nextCall + 1) >>> 0);
    this.#surveys.set(call, deliver);
    signal.addEventListener(
      'abort',
      () => {
        this.#surveys.delete(call);
        this.#outbox.force({ cancel: {}, call });
      },
      { once: true },
    );
    await this.#outbox.put({ envelope: toEnvelope('SURVEY', question), call });
  }

  async respond(topic: string, serve: Serve): Promise<Stop> {
    return this.#unregister(await this.#register('RESPONDENT', topic, { serve }));
  }

  async join(group: string, deliver: Deliver): Promise<BusLink> {
    const ref = await this.#register('MEMBER', group, { deliver });
    return {
      send: async (message) => {
        if (this.#closed) throw new ClosedError();
        this.#check(message);
        const frame: Frame = { envelope: toEnvelope('BUS', message), ref };
        if (!this.#outbox.tryPut(frame)) await this.#outbox.put(frame);
      },
      leave: this.#unregister(ref),
    };
  }

  /**
   * Fails what awaits an answer at once, then lets what was sent reach the host: the outbox is
   * written out, the stream half-closed, and close waits for the host to end its side, which it
   * does only after reading every frame before the end. Bounded by `closeTimeout`: a host that
   * is frozen or away loses what it did not read, and close still returns.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new ClosedError('the transport was closed');
    for (const acking of this.#acks.values()) acking.reject(closed);
    this.#acks.clear();
    this.#requests.rejectAll(closed);
    if (this.#reopenTimer !== undefined) {
      clearTimeout(this.#reopenTimer);
      this.#reopenTimer = undefined;
      // Frames queued while the stream was down get the same chance as the others.
      if (this.#outbox.length > 0) this.#open();
    }
    await within(this.#outbox.end().then(() => this.#receiving), this.#closeTimeout);
    this.#outbox.detach();
    this.#stream?.cancel();
    this.#client.close();
  }
}

/** Waits for `promise` to settle, or `ms` at most; its rejection is passed on. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the channel is connected; fails fast with ConnectionError when it cannot be. */
function ready(client: Client, deadline: number, target: string): Promise<void> {
  const channel = client.getChannel();
  return new Promise((resolve, reject) => {
    const check = () => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve();
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN) {
        return reject(new ConnectionError(`grpc: cannot connect to ${target} (is the host running, and do TLS settings match?)`));
      }
      channel.watchConnectivityState(state, deadline, (error) => {
        if (error) reject(new ConnectionError(`grpc: no connection to ${target} within the connect timeout`, { cause: error }));
        else check();
      });
    };
    check();
  });
}
