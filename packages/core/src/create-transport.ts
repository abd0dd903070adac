// Wraps an adapter's Backend into the Transport users see. Everything every adapter would
// otherwise repeat lives here: names, limits, headers, timeouts, cancellation, error replies,
// buffering, and the rules of close.

import type { Backend, Deliver, Stop } from './backend.js';
import {
  AbortedError,
  ClosedError,
  ConnectionError,
  InvalidArgumentError,
  MsgError,
  PayloadTooLargeError,
  RemoteError,
  TimeoutError,
  UnsupportedError,
  isMsgError,
} from './errors.js';
import { ERROR_CODE_HEADER, ERROR_HEADER, RESERVED_HEADER_PREFIX, emptyHeaders, nextId } from './message.js';
import type { Headers, Message, Reply } from './message.js';
import { hasWildcard, matchSubject, validateName, validatePattern } from './names.js';
import { MessageQueue } from './queue.js';
import type {
  BusMember,
  MessageStream,
  Pattern,
  PublishOptions,
  ReplyHandler,
  RequestOptions,
  SubscribeOptions,
  Subscription,
  SurveyOptions,
  SurveyResponses,
  Transport,
} from './transport.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_PENDING = 10_000;

/** Errors from a backend that are not ours yet become ConnectionError, keeping the original. */
export function toMsgError(error: unknown, backend: string): MsgError {
  if (isMsgError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`${backend}: ${detail}`, { cause: error });
}

export function createTransport(backend: Backend): Transport {
  return new BackendTransport(backend);
}

class BackendTransport implements Transport {
  readonly name: string;
  readonly capabilities: Backend['capabilities'];
  #backend: Backend;
  #closing: Promise<void> | undefined;
  /** Requests and surveys in flight, each with the function that fails it on close. */
  #inFlight = new Set<() => void>();
  /** Everything that must stop on close. */
  #live = new Set<{ stop(): Promise<void> }>();

  constructor(backend: Backend) {
    this.#backend = backend;
    this.name = backend.name;
    this.capabilities = backend.capabilities;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  // -- checks --------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closing) throw new ClosedError(`the ${this.name} transport is closed; create a new one to continue`);
  }

  #checkPattern(pattern: Pattern): void {
    if (!this.capabilities.patterns.includes(pattern)) {
      throw new UnsupportedError(`the ${this.name} transport does not support ${pattern}; see its capabilities.patterns`);
    }
  }

  #checkData(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw new InvalidArgumentError('data must be a Uint8Array; encode values with a codec such as text or json');
    }
    if (data.length > this.capabilities.maxPayload) {
      throw new PayloadTooLargeError(data.length, this.capabilities.maxPayload);
    }
  }

  #checkHeaders(headers: Headers | undefined): Headers {
    if (headers === undefined) return emptyHeaders();
    const keys = Object.keys(headers);
    if (keys.length === 0) return emptyHeaders();
    if (!this.capabilities.headers) {
      throw new UnsupportedError(`the ${this.name} transport does not carry headers; send them inside the payload`);
    }
    for (const key of keys) {
      if (key.startsWith(RESERVED_HEADER_PREFIX)) {
        throw new InvalidArgumentError(`header "${key}" uses the reserved prefix "${RESERVED_HEADER_PREFIX}"`);
      }
      if (typeof headers[key] !== 'string') {
        throw new InvalidArgumentError(`header "${key}" must be a string`);
      }
    }
    return headers;
  }

  /** Runs `body` so that a synchronous throw becomes a rejection, as callers of an async API expect. */
  async #run<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw toMsgError(error, this.name);
    }
  }

  #track(stop: Stop): { stop(): Promise<void> } {
    let stopping: Promise<void> | undefined;
    const entry = {
      stop: () => {
        this.#live.delete(entry);
        stopping ??= stop().catch(() => undefined);
        return stopping;
      },
    };
    this.#live.add(entry);
    return entry;
  }

  // -- request/reply -------------------------------------------------------------------------

  request(service: string, data: Uint8Array, options: RequestOptions = {}): Promise<Message> {
    return this.#run(async () => {
      this.#checkOpen();
      this.#checkPattern('request');
      validateName(service);
      this.#checkData(data);
      const headers = this.#checkHeaders(options.headers);
      const timeout = options.timeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
      if (!(timeout > 0)) throw new InvalidArgumentError(`timeout must be a positive number of milliseconds, got ${timeout}`);
      const userSignal = options.signal;
      if (userSignal?.aborted) throw new AbortedError(undefined, { cause: userSignal.reason });

      const controller = new AbortController();
      const deadline = Date.now() + timeout;
      let rejectRequest!: (reason: unknown) => void;
      // Every way a request ends early aborts the backend's signal and settles the request here,
      // so the core settles even if a backend were slow to notice the signal.
      const abort = (reason: unknown) => {
        if (controller.signal.aborted) return;
        controller.abort(reason);
        rejectRequest(reason);
      };
      const timer = setTimeout(() => abort(new TimeoutError(`no reply from "${service}" within ${timeout} ms`)), timeout);
      const onUserAbort = () => abort(new AbortedError(undefined, { cause: userSignal?.reason }));
      const onClose = () => abort(new ClosedError('the transport was closed while the request was in flight'));
      userSignal?.addEventListener('abort', onUserAbort, { once: true });
      this.#inFlight.add(onClose);
      try {
        const reply = await new Promise<Message>((resolve, reject) => {
          rejectRequest = reject;
          this.#backend.request({ id: nextId(), subject: service, data, headers }, controller.signal, deadline).then(resolve, reject);
        });
        const remote = reply.headers[ERROR_HEADER];
        if (remote !== undefined) throw new RemoteError(remote, reply.headers[ERROR_CODE_HEADER]);
        return reply;
      } finally {
        clearTimeout(timer);
        userSignal?.removeEventListener('abort', onUserAbort);
        this.#inFlight.delete(onClose);
      }
    });
  }

  reply(service: string, handler: ReplyHandler): Promise<Subscription> {
    return this.#serve('request', service, handler, (serve) => this.#backend.reply(service, serve));
  }

  respond(topic: string, handler: ReplyHandler): Promise<Subscription> {
    return this.#serve('survey', topic, handler, (serve) => this.#backend.respond(topic, serve));
  }

  #serve(
    pattern: Pattern,
    subject: string,
    handler: ReplyHandler,
    start: (serve: (request: Message) => Promise<Message>) => Promise<Stop>,
  ): Promise<Subscription> {
    return this.#run(async () => {
      this.#checkOpen();
      this.#checkPattern(pattern);
      validateName(subject);
      if (typeof handler !== 'function') throw new InvalidArgumentError('handler must be a function');
      const serve = async (request: Message): Promise<Message> => {
        try {
          return this.#toReplyMessage(request, await handler(request));
        } catch (error) {
          return errorReply(request, error);
        }
      };
      const entry = this.#track(await start(serve));
      return { subject, unsubscribe: () => entry.stop() };
    });
  }

  #toReplyMessage(request: Message, reply: Reply): Message {
    const data = reply instanceof Uint8Array ? reply : reply?.data;
    if (!(data instanceof Uint8Array)) {
      throw new InvalidArgumentError('a handler must return a Uint8Array or { data: Uint8Array, headers }');
    }
    this.#checkData(data);
    const headers = reply instanceof Uint8Array ? emptyHeaders() : this.#checkHeaders(reply.headers);
    return { id: request.id, subject: request.subject, data, headers };
  }

  // -- publish/subscribe ---------------------------------------------------------------------

  publish(topic: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    return this.#run(async () => {
      this.#checkOpen();
      this.#checkPattern('publish');
      validateName(topic);
      this.#checkData(data);
      const headers = this.#checkHeaders(options.headers);
      await this.#backend.publish({ id: nextId(), subject: topic, data, headers });
    });
  }

  subscribe(pattern: string, options: SubscribeOptions = {}): Promise<MessageStream> {
    return this.#run(async () => {
      this.#checkOpen();
      this.#checkPattern('publish');
      validatePattern(pattern);
      const caps = this.capabilities;
      const wildcard = hasWildcard(pattern);
      if (wildcard && !caps.wildcards) {
        throw new UnsupportedError(`the ${this.name} transport does not support wildcard subscriptions`);
      }
      if (options.queue !== undefined) {
        if (!caps.queueGroups) throw new UnsupportedError(`the ${this.name} transport does not support queue groups`);
        validateName(options.queue);
      }
      if (options.durable !== undefined) {
        if (!caps.durable) throw new UnsupportedError(`the ${this.name} transport has no durable subscriptions`);
        validateName(options.durable);
      }
      const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
      if (!(maxPending >= 1)) throw new InvalidArgumentError(`maxPending must be at least 1, got ${maxPending}`);
      if (options.signal?.aborted) throw new AbortedError(undefined, { cause: options.signal.reason });

      const queue = new MessageQueue(maxPending, caps.delivery === 'at-most-once');
      const deliver: Deliver = wildcard
        ? (message, settle) => (matchSubject(pattern, message.subject) ? queue.push(message, settle) : settle?.())
        : (message, settle) => (message.subject === pattern ? queue.push(message, settle) : settle?.());
      const stop = await this.#backend.subscribe(pattern, deliver, {
        queue: options.queue,
        durable: options.durable,
        maxPending,
      });
      // Settled before the backend stops, while its channel is still open to ack what the consumer
      // handled and nack the rest; what arrives after that meets an ended queue and is nacked too.
      const entry = this.#track(async () => {
        queue.discard(new ClosedError('unsubscribed before the message was consumed'));
        await stop();
      });
      const unsubscribe = () => entry.stop();
      options.signal?.addEventListener('abort', () => void unsubscribe(), { once: true });

      if (options.handler) pump(queue, options.handler, options.onError, pattern);
      const iterable = !options.handler;
      return {
        subject: pattern,
        unsubscribe,
        get dropped() {
          return queue.dropped;
        },
        [Symbol.asyncIterator]() {
          if (!iterable) throw new InvalidArgumentError('a subscription with a handler is not iterable');
          return queue[Symbol.asyncIterator]();
        },
      };
    });
  }

  // -- survey --------------------------------------------------------------------------------

  survey(topic: string, data: Uint8Array, options: SurveyOptions): SurveyResponses {
    const queue = new MessageQueue(DEFAULT_MAX_PENDING, true);
    const started = this.#run(async () => {
      this.#checkOpen();
      this.#checkPattern('survey');
      validateName(topic);
      this.#checkData(data);
      const headers = this.#checkHeaders(options?.headers);
      const { deadline, maxResponses, signal: userSignal } = options ?? ({} as SurveyOptions);
      if (!(deadline > 0)) throw new InvalidArgumentError(`deadline must be a positive number of milliseconds, got ${deadline}`);
      if (maxResponses !== undefined && !(maxResponses >= 1)) {
        throw new InvalidArgumentError(`maxResponses must be at least 1, got ${maxResponses}`);
      }
      if (userSignal?.aborted) throw new AbortedError(undefined, { cause: userSignal.reason });

      const controller = new AbortController();
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        userSignal?.removeEventListener('abort', onUserAbort);
        this.#inFlight.delete(onClose);
        if (error === undefined) queue.end();
        else queue.fail(error);
        controller.abort();
      };
      const timer = setTimeout(() => finish(), deadline);
      const onUserAbort = () => finish(new AbortedError(undefined, { cause: userSignal?.reason }));
      const onClose = () => finish(new ClosedError('the transport was closed during the survey'));
      userSignal?.addEventListener('abort', onUserAbort, { once: true });
      this.#inFlight.add(onClose);

      let answers = 0;
      const deliver: Deliver = (answer, settle) => {
        settle?.();
        if (controller.signal.aborted) return;
        const remote = answer.headers[ERROR_HEADER];
        if (remote !== undefined) return; // a respondent whose handler threw gave no answer
        queue.push(answer);
        if (maxResponses !== undefined && ++answers >= maxResponses) finish();
      };
      try {
        await this.#backend.survey({ id: nextId(), subject: topic, data, headers }, deliver, controller.signal);
      } catch (error) {
        finish(toMsgError(error, this.name));
      }
    });
    started.catch((error: unknown) => queue.fail(error));
    return {
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
      toArray: async () => {
        const answers: Message[] = [];
        for await (const answer of queue) answers.push(answer);
        return answers;
      },
    };
  }

  // -- bus -----------------------------------------------------------------------------------

  join(group: string): Promise<BusMember> {
    return this.#run(async () => {
      this.#checkOpen();
      this.#checkPattern('bus');
      validateName(group);
      const queue = new MessageQueue(DEFAULT_MAX_PENDING, this.capabilities.delivery === 'at-most-once');
      const link = await this.#backend.join(group, (message, settle) => queue.push(message, settle));
      const entry = this.#track(async () => {
        queue.discard(new ClosedError('left the bus before the message was consumed'));
        await link.leave();
      });
      return {
        group,
        get dropped() {
          return queue.dropped;
        },
        send: (data: Uint8Array, options: PublishOptions = {}) =>
          this.#run(async () => {
            this.#checkOpen();
            if (queue.ended) throw new ClosedError(`this member has left the bus group "${group}"`);
            this.#checkData(data);
            const headers = this.#checkHeaders(options.headers);
            await link.send({ id: nextId(), subject: group, data, headers });
          }),
        leave: () => entry.stop(),
        [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
      };
    });
  }

  // -- lifecycle -----------------------------------------------------------------------------

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const fail of [...this.#inFlight]) fail();
      await Promise.all([...this.#live].map((entry) => entry.stop()));
      await this.#backend.close();
    })();
    return this.#closing;
  }
}

function errorReply(request: Message, error: unknown): Message {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  const headers: Headers = { [ERROR_HEADER]: message };
  if (code !== undefined) headers[ERROR_CODE_HEADER] = code;
  return { id: request.id, subject: request.subject, data: new Uint8Array(0), headers };
}

/** The callback form: one message at a time, in arrival order; a throw is a nack. */
function pump(
  queue: MessageQueue,
  handler: (message: Message) => void | Promise<void>,
  onError: ((error: unknown, message: Message) => void) | undefined,
  pattern: string,
): void {
  let warned = false;
  void (async () => {
    for (;;) {
      let result: IteratorResult<Message>;
      try {
        result = await queue.next();
      } catch {
        return;
      }
      if (result.done) return;
      try {
        await handler(result.value);
      } catch (error) {
        queue.failInHand(error);
        if (onError) onError(error, result.value);
        else if (!warned) {
          warned = true;
          console.error(`@msg/core: a handler of subscription "${pattern}" threw (reported once; pass onError to see each):`, error);
        }
      }
    }
  })();
}
