// The hosting node: a gRPC server that routes every pattern between its clients, and a Backend so
// that the host is itself a transport. Its own registrations sit in the same router as its clients'.

import {
  type Server as GrpcServer,
  Server,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import {
  AbortedError,
  type Backend,
  type BusLink,
  type Capabilities,
  ConnectionError,
  type Deliver,
  type Message,
  type RequestCall,
  PayloadTooLargeError,
  type Serve,
  StatusFeed,
  type Stop,
  TimeoutError,
  nextId,
  validateName,
} from '@msg/core';
import { Connection } from './connection.js';
import { toStatus } from './errors.js';
import { type GrpcOptions, messageLimit, serverCredentials, serverOptions } from './options.js';
import { messagingService } from './proto.js';
import { Router } from './router.js';
import { type Envelope, type Frame, toEnvelope, toMessage, wireSize } from './wire.js';

const DEFAULT_MAX_QUEUED = 10_000;

function copy(message: Message): Message {
  return { id: message.id, subject: message.subject, data: message.data.slice(), headers: { ...message.headers } };
}

export class HostBackend implements Backend {
  readonly name = 'grpc';
  readonly capabilities: Capabilities;
  /**
   * A host has no connection of its own to lose: clients come and go (each one's stream ending is
   * its own business), so nothing is emitted here.
   */
  readonly status = new StatusFeed('grpc');
  /** The bound address, `host:port`. */
  readonly address: string;
  readonly #server: GrpcServer;
  readonly #router: Router;
  readonly #connections: Set<Connection>;

  private constructor(capabilities: Capabilities, address: string, server: GrpcServer, router: Router, connections: Set<Connection>) {
    this.capabilities = capabilities;
    this.address = address;
    this.#server = server;
    this.#router = router;
    this.#connections = connections;
  }

  /** Starts the server on `listen` and resolves once it accepts connections. */
  static async start(listen: string, capabilities: Capabilities, options: GrpcOptions): Promise<HostBackend> {
    const router = new Router();
    const connections = new Set<Connection>();
    const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    const server = new Server(serverOptions(options));
    server.addService(messagingService, {
      Request: (call: ServerUnaryCall<Envelope, Envelope>, callback: sendUnaryData<Envelope>) =>
        answerUnary(router, capabilities.maxPayload, call, callback),
      Stream: (stream: ServerDuplexStream<Frame, Frame>) => {
        const connection = new Connection(router, stream, maxQueued);
        connections.add(connection);
        void connection.run().finally(() => connections.delete(connection));
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(listen, serverCredentials(options), (error, bound) => (error ? reject(new ConnectionError(`grpc: cannot listen on ${listen}: ${error.message}`, { cause: error })) : resolve(bound)));
    });
    const host = listen.slice(0, listen.lastIndexOf(':'));
    return new HostBackend(capabilities, `${host}:${port}`, server, router, connections);
  }

  #check(message: Message): void {
    const limit = messageLimit(this.capabilities.maxPayload);
    const size = wireSize(message);
    if (size > limit) throw new PayloadTooLargeError(size, limit);
  }

  /** The host's own requests go through its router; its asks take a signal, so the call gets one. */
  request(call: RequestCall): void {
    this.#check(call.message);
    const cancelled = new AbortController();
    call.onCancel((reason) => cancelled.abort(reason));
    this.#router.request(copy(call.message), cancelled.signal).then(
      (reply) => call.resolve(copy(reply)),
      (error: unknown) => call.reject(error),
    );
  }

  async reply(service: string, serve: Serve): Promise<Stop> {
    const remove = this.#router.serve(service, async (message) => copy(await serve(copy(message))));
    return async () => remove();
  }

  publish(message: Message): void {
    this.#check(message);
    this.#router.publish(message);
  }

  async subscribe(pattern: string, deliver: Deliver, options: { queue?: string }): Promise<Stop> {
    const remove = this.#router.subscribe({ pattern, queue: options.queue, deliver: (message) => deliver(copy(message)) });
    return async () => remove();
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    this.#check(question);
    this.#router.survey(copy(question), signal, (answer) => deliver(copy(answer)));
  }

  async respond(topic: string, serve: Serve): Promise<Stop> {
    const remove = this.#router.respond(topic, async (message) => copy(await serve(copy(message))));
    return async () => remove();
  }

  async join(group: string, deliver: Deliver): Promise<BusLink> {
    const member = { deliver: (message: Message) => deliver(copy(message)) };
    const remove = this.#router.join(group, member);
    return {
      send: async (message) => {
        this.#check(message);
        this.#router.send(group, member, message);
      },
      leave: async () => remove(),
    };
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.end();
    // Clients see their streams end and reconnect to whoever hosts next; nothing waits for them.
    this.#server.forceShutdown();
  }
}

/** The unary Request: one request routed to one replier, the deadline and cancellation honoured. */
function answerUnary(router: Router, maxPayload: number, call: ServerUnaryCall<Envelope, Envelope>, callback: sendUnaryData<Envelope>): void {
  const controller = new AbortController();
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() - Date.now() : deadline - Date.now();
  const timer = Number.isFinite(ms) ? setTimeout(() => controller.abort(new TimeoutError('grpc: the deadline passed')), Math.max(0, ms)) : undefined;
  const onCancel = () => controller.abort(new AbortedError('grpc: the caller cancelled'));
  call.once('cancelled', onCancel);
  const finish = () => {
    clearTimeout(timer);
    call.removeListener('cancelled', onCancel);
  };
  let request: Message;
  try {
    validateName(call.request.subject);
    if (call.request.data.length > maxPayload) throw new PayloadTooLargeError(call.request.data.length, maxPayload);
    request = toMessage(call.request);
  } catch (error) {
    finish();
    callback(toStatus(error));
    return;
  }
  router.request(request.id === '' ? { ...request, id: nextId() } : request, controller.signal).then(
    (reply) => {
      finish();
      callback(null, toEnvelope('REPLY', reply));
    },
    (error: unknown) => {
      finish();
      if (!call.cancelled) callback(toStatus(error));
      else callback({ code: status.CANCELLED, details: 'cancelled by the caller' });
    },
  );
}
