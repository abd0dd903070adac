// Wraps an adapter's Backend into the Transport users see. Everything every adapter would
// otherwise repeat lives here: names, limits, headers, timeouts, cancellation, error replies,
// buffering, and the rules of close.

import type { Backend, Deliver, Stop } from './backend.js';
import { Deadlines } from './call.js';
import {
  AbortedError,
  ClosedError,
  ConnectionError,
  InvalidArgumentError,
  PayloadTooLargeError,
  UnsupportedError,
  toMsgError,
} from './errors.js';
import {
  DEAD_LETTER_ATTEMPTS_HEADER,
  DEAD_LETTER_ERROR_HEADER,
  DEAD_LETTER_ID_HEADER,
  DEAD_LETTER_SOURCE_HEADER,
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  RESERVED_HEADER_PREFIX,
  emptyHeaders,
  nextId,
} from './message.js';
import type { AckableMessage, Headers, Message, Reply } from './message.js';
import { combineHooks } from './hooks.js';
import type { DeliverEvent, HookEvent, SendEnd, TransportHooks } from './hooks.js';
import { hasWildcard, matchSubject, validateName, validatePattern } from './names.js';
import { MessageQueue, type QueueAcks } from './queue.js';
import { type StatusOptions, type StatusStream, watchStatus } from './status.js';
import type {
  BusMember,
  DeadLetterOptions,
  ManualAckOptions,
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

/** What a publish that the backend handed over at once returns: one settled promise for all. */
const HANDED_OVER: Promise<void> = Promise.resolve();

export function createTransport(backend: Backend): Transport {
  return new BackendTransport(backend);
}

class BackendTransport implements Transport {
  readonly name: string;
  readonly capabilities: Backend['capabilities'];
  #backend: Backend;
  #closing: Promise<void> | undefined;
  /** Requests in flight, by timeout value, each list with one timer. */
  readonly #deadlines = new Deadlines();
  /** Surveys in flight, each with the function that fails it on close. */
  readonly #surveys = new Set<() => void>();
  /** Everything that must stop on close. */
  #live = new Set<{ stop(): Promise<void> }>();
  /** Status watchers, stopped first on close: what close itself ends is no event. */
  readonly #watchers = new Set<() => void>();
  /** What `use` installed, combined into one; undefined (one check per operation) until then. */
  #hooks: TransportHooks | undefined;
  #hookList: TransportHooks[] = [];

  constructor(backend: Backend) {
    this.#backend = backend;
    this.name = backend.name;
    this.capabilities = backend.capabilities;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  use(hooks: TransportHooks): void {
    if (typeof hooks !== 'object' || hooks === null) throw new InvalidArgumentError('use() takes an object of hooks: { send, process, deliver }');
    this.#hookList.push(hooks);
    this.#hooks = combineHooks(this.#hookList);
  }

  /**
   * With a send hook, the message goes out with a copy of its headers the hook may add to, checked
   * again after it, and the hook's end is returned to be told how the operation ended.
   */
  #send(send: NonNullable<TransportHooks['send']>, pattern: HookEvent['pattern'], message: Message): [Message, SendEnd | undefined] {
    const headers = this.capabilities.headers ? { ...message.headers } : undefined;
    const out = headers ? { ...message, headers } : message;
    const end = send({ transport: this.name, pattern, message: out }, headers);
    if (headers) {
      try {
        this.#checkHeaders(headers);
      } catch (error) {
        end?.(error);
        throw error;
      }
    }
    return [out, end];
  }

  /** Runs each message's handler through the process hook, when there is one. */
  #process<H extends (message: Message) => unknown>(pattern: HookEvent['pattern'], handler: H): H {
    const process = this.#hooks?.process;
    if (!process) return handler;
    return ((message: Message) => process({ transport: this.name, pattern, message }, () => handler(message))) as H;
  }

  /** Hands a message to `queue` telling the deliver hook that it arrived, and if it was dropped or nacked. */
  #observe(
    deliver: NonNullable<TransportHooks['deliver']>,
    pattern: HookEvent['pattern'],
    subscription: string,
    handled: boolean,
    queue: MessageQueue,
  ): Deliver {
    const redelivers = this.capabilities.delivery === 'at-least-once';
    return (message, settle, deliveries) => {
      const event: DeliverEvent = { transport: this.name, pattern, message, subscription, handled };
      deliver(event, 'received');
      const dropped = queue.dropped;
      queue.push(
        message,
        settle &&
          ((error, redeliverAfterMs) => {
            // Given back for redelivery: only an at-least-once backend redelivers (an at-most-once
            // one may take the settle only to know when the consumer is done, for its flow control).
            if (error !== undefined && redelivers) deliver(event, 'nacked');
            settle(error, redeliverAfterMs);
          }),
        deliveries,
      );
      if (queue.dropped !== dropped) deliver(event, 'dropped');
    };
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
        // Unsubscribe and close still succeed (what was stopped is gone from this side), but the
        // backend's failure to tidy up is reported.
        stopping ??= stop().catch((error: unknown) => this.#backend.status.error('unsubscribe', toMsgError(error, this.name)));
        return stopping;
      },
    };
    this.#live.add(entry);
    return entry;
  }

  // -- request/reply -------------------------------------------------------------------------

  // The request and publish paths run synchronously up to the backend: checks throw into a rejected
  // promise, and the only promise made is the one the caller gets.
  request(service: string, data: Uint8Array, options?: RequestOptions): Promise<Message> {
    let message: Message;
    let timeout: number;
    let signal: AbortSignal | undefined;
    let end: SendEnd | undefined;
    try {
      this.#checkOpen();
      this.#checkPattern('request');
      validateName(service);
      this.#checkData(data);
      const headers = this.#checkHeaders(options?.headers);
      timeout = options?.timeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
      if (!(timeout > 0)) throw new InvalidArgumentError(`timeout must be a positive number of milliseconds, got ${timeout}`);
      signal = options?.signal;
      if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
      message = { id: nextId(), subject: service, data, headers };
      const send = this.#hooks?.send;
      if (send) [message, end] = this.#send(send, 'request', message);
    } catch (error) {
      const failure = toMsgError(error, this.name);
      end?.(failure);
      return Promise.reject(failure);
    }
    return new Promise<Message>((resolve, reject) => {
      const call =
        end === undefined
          ? this.#deadlines.start(message, timeout, resolve, (error) => reject(toMsgError(error, this.name)))
          : this.#deadlines.start(
              message,
              timeout,
              (reply) => {
                end(undefined, reply);
                resolve(reply);
              },
              (error) => {
                const failure = toMsgError(error, this.name);
                end(failure);
                reject(failure);
              },
            );
      if (signal) call.watch(signal);
      try {
        const sent = this.#backend.request(call);
        if (sent instanceof Promise) sent.catch((error: unknown) => call.reject(error));
      } catch (error) {
        call.reject(error);
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
      const handle = this.#process(pattern, handler);
      // Not an async function: a handler that answers at once costs no await.
      const serve = (request: Message): Promise<Message> => {
        let reply: Reply | Promise<Reply>;
        try {
          reply = handle(request);
        } catch (error) {
          return Promise.resolve(errorReply(request, error));
        }
        if (reply instanceof Promise) return reply.then((r) => this.#replyOrError(request, r), (error: unknown) => errorReply(request, error));
        return Promise.resolve(this.#replyOrError(request, reply));
      };
      const entry = this.#track(await start(serve));
      return { subject, unsubscribe: () => entry.stop() };
    });
  }

  #replyOrError(request: Message, reply: Reply): Message {
    try {
      return this.#toReplyMessage(request, reply);
    } catch (error) {
      return errorReply(request, error);
    }
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

  publish(topic: string, data: Uint8Array, options?: PublishOptions): Promise<void> {
    let end: SendEnd | undefined;
    try {
      this.#checkOpen();
      this.#checkPattern('publish');
      validateName(topic);
      this.#checkData(data);
      const headers = this.#checkHeaders(options?.headers);
      let message: Message = { id: nextId(), subject: topic, data, headers };
      const send = this.#hooks?.send;
      if (send) [message, end] = this.#send(send, 'publish', message);
      const taken = this.#backend.publish(message);
      if (end === undefined) return taken === undefined ? HANDED_OVER : taken.catch(this.#fail);
      const ended = end;
      if (taken === undefined) {
        ended(undefined);
        return HANDED_OVER;
      }
      return taken.then(
        () => ended(undefined),
        (error: unknown) => {
          const failure = toMsgError(error, this.name);
          ended(failure);
          throw failure;
        },
      );
    } catch (error) {
      const failure = toMsgError(error, this.name);
      end?.(failure);
      return Promise.reject(failure);
    }
  }

  readonly #fail = (error: unknown): never => {
    throw toMsgError(error, this.name);
  };

  subscribe(pattern: string, options: ManualAckOptions): Promise<MessageStream<AckableMessage>>;
  subscribe(pattern: string, options?: SubscribeOptions): Promise<MessageStream>;
  subscribe(pattern: string, options: SubscribeOptions | ManualAckOptions = {}): Promise<MessageStream<Message>> {
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
      if (options.start !== undefined && options.start !== 'new' && options.start !== 'earliest') {
        throw new InvalidArgumentError(`start must be "new" or "earliest", got ${JSON.stringify(options.start)}`);
      }
      const fromEarliest = options.start === 'earliest';
      if (fromEarliest) {
        if (!caps.replay) throw new UnsupportedError(`the ${this.name} transport keeps no messages for subscriptions that do not exist yet: start "earliest" is not available`);
        if (options.durable === undefined) throw new InvalidArgumentError('start "earliest" needs a durable name: only a durable subscription remembers how far it has read');
      }
      const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
      if (!(maxPending >= 1)) throw new InvalidArgumentError(`maxPending must be at least 1, got ${maxPending}`);
      const handler = options.handler as ((message: Message) => void | Promise<void>) | undefined;
      const onError = (options.onError as ((error: unknown, message: Message) => void) | undefined) ?? reportOnce(pattern);
      const acks = this.#acksOf(pattern, options, onError);
      if (options.signal?.aborted) throw new AbortedError(undefined, { cause: options.signal.reason });

      const queue = new MessageQueue(maxPending, caps.delivery === 'at-most-once', acks);
      const observe = this.#hooks?.deliver;
      const take = observe && this.#observe(observe, 'publish', pattern, handler !== undefined, queue);
      const deliver: Deliver = take
        ? (message, settle, deliveries) =>
            (wildcard ? matchSubject(pattern, message.subject) : message.subject === pattern) ? take(message, settle, deliveries) : settle?.()
        : wildcard
          ? (message, settle, deliveries) => (matchSubject(pattern, message.subject) ? queue.push(message, settle, deliveries) : settle?.())
          : (message, settle, deliveries) => (message.subject === pattern ? queue.push(message, settle, deliveries) : settle?.());
      const stop = await this.#backend.subscribe(pattern, deliver, {
        queue: options.queue,
        durable: options.durable,
        ...(fromEarliest ? { fromEarliest } : {}),
        maxPending,
        ...(options.deadLetter ? { deadLetter: { topic: options.deadLetter.topic, maxDeliveries: options.deadLetter.maxDeliveries } } : {}),
      });
      // Settled before the backend stops, while its channel is still open to ack what the consumer
      // handled and nack the rest; what arrives after that meets an ended queue and is nacked too.
      const entry = this.#track(async () => {
        queue.discard(new ClosedError('unsubscribed before the message was consumed'));
        await stop();
      });
      const unsubscribe = () => entry.stop();
      options.signal?.addEventListener('abort', () => void unsubscribe(), { once: true });

      if (handler) queue.consume(this.#process('publish', handler), onError);
      return {
        subject: pattern,
        unsubscribe,
        get dropped() {
          return queue.dropped;
        },
        [Symbol.asyncIterator]() {
          if (handler) throw new InvalidArgumentError('a subscription with a handler is not iterable');
          return queue[Symbol.asyncIterator]();
        },
      };
    });
  }

  /** The settlement rules of a subscription; undefined for the implicit ones without dead letters. */
  #acksOf(pattern: string, options: SubscribeOptions | ManualAckOptions, report: (error: unknown, message: Message) => void): QueueAcks | undefined {
    const ack: unknown = options.ack;
    if (ack !== undefined && ack !== 'auto' && ack !== 'manual') {
      throw new InvalidArgumentError(`ack must be "auto" or "manual", got ${JSON.stringify(ack)}`);
    }
    const manual = ack === 'manual';
    if (manual && this.capabilities.delivery !== 'at-least-once') {
      throw new UnsupportedError(
        `the ${this.name} transport is at-most-once: its messages are never redelivered, so there is nothing to acknowledge; subscribe without ack: 'manual', or use an at-least-once transport`,
      );
    }
    const deadLetter = options.deadLetter === undefined ? undefined : this.#deadLetterOf(pattern, options.deadLetter, report);
    return manual || deadLetter ? { manual, deadLetter } : undefined;
  }

  #deadLetterOf(pattern: string, options: DeadLetterOptions, report: (error: unknown, message: Message) => void): QueueAcks['deadLetter'] {
    if (!this.capabilities.deadLetter) {
      throw new UnsupportedError(`the ${this.name} transport does not count deliveries, so it cannot dead-letter; see its capabilities.deadLetter`);
    }
    const { topic, maxDeliveries } = options;
    validateName(topic);
    if (!Number.isInteger(maxDeliveries) || !(maxDeliveries >= 1)) {
      throw new InvalidArgumentError(`deadLetter.maxDeliveries must be a whole number, at least 1, got ${maxDeliveries}`);
    }
    if (matchSubject(pattern, topic)) {
      throw new InvalidArgumentError(`deadLetter.topic "${topic}" matches the subscription's own pattern "${pattern}": its dead letters would come back to it; pick another topic`);
    }
    return {
      maxDeliveries,
      send: async (message, deliveries, error) => {
        const headers: Headers = {
          ...message.headers,
          [DEAD_LETTER_SOURCE_HEADER]: message.subject,
          [DEAD_LETTER_ID_HEADER]: message.id,
          [DEAD_LETTER_ATTEMPTS_HEADER]: String(deliveries),
          [DEAD_LETTER_ERROR_HEADER]: describeFailure(error),
        };
        try {
          await this.#backend.publish({ id: nextId(), subject: topic, data: message.data, headers });
        } catch (failure) {
          const why = toMsgError(failure, this.name);
          report(new ConnectionError(`publishing the dead letter of message ${message.id} to "${topic}" failed, so it will be delivered again: ${why.message}`, { cause: why }), message);
          throw why;
        }
      },
    };
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

      let question: Message = { id: nextId(), subject: topic, data, headers };
      let end: SendEnd | undefined;
      const send = this.#hooks?.send;
      if (send) [question, end] = this.#send(send, 'survey', question);

      const controller = new AbortController();
      const finish = (error?: unknown) => {
        const ended = end;
        end = undefined;
        ended?.(error);
        clearTimeout(timer);
        userSignal?.removeEventListener('abort', onUserAbort);
        this.#surveys.delete(onClose);
        if (error === undefined) queue.end();
        else queue.fail(error);
        controller.abort();
      };
      const timer = setTimeout(() => finish(), deadline);
      const onUserAbort = () => finish(new AbortedError(undefined, { cause: userSignal?.reason }));
      const onClose = () => finish(new ClosedError('the transport was closed during the survey'));
      userSignal?.addEventListener('abort', onUserAbort, { once: true });
      this.#surveys.add(onClose);

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
        await this.#backend.survey(question, deliver, controller.signal);
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
      const observe = this.#hooks?.deliver;
      const deliver: Deliver = observe
        ? this.#observe(observe, 'bus', group, false, queue)
        : (message, settle) => queue.push(message, settle);
      const link = await this.#backend.join(group, deliver);
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
            const message: Message = { id: nextId(), subject: group, data, headers };
            const send = this.#hooks?.send;
            if (!send) return link.send(message);
            const [out, end] = this.#send(send, 'bus', message);
            try {
              await link.send(out);
            } catch (error) {
              const failure = toMsgError(error, this.name);
              end?.(failure);
              throw failure;
            }
            end?.(undefined);
          }),
        leave: () => entry.stop(),
        [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
      };
    });
  }

  // -- lifecycle -----------------------------------------------------------------------------

  status(options: StatusOptions = {}): StatusStream {
    this.#checkOpen();
    if (options.handler !== undefined && typeof options.handler !== 'function') {
      throw new InvalidArgumentError('status handler must be a function');
    }
    return watchStatus(this.#backend.status, options, (stop) => {
      this.#watchers.add(stop);
      return () => this.#watchers.delete(stop);
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const stop of [...this.#watchers]) stop();
      this.#deadlines.endAll(() => new ClosedError('the transport was closed while the request was in flight'));
      for (const fail of [...this.#surveys]) fail();
      await Promise.all([...this.#live].map((entry) => entry.stop()));
      await this.#backend.close();
    })();
    return this.#closing;
  }
}

/** Longest `dead-letter-error` header: an error's message can be long, and a header travels with every copy. */
const MAX_FAILURE_TEXT = 1024;

function describeFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_FAILURE_TEXT ? `${text.slice(0, MAX_FAILURE_TEXT - 1)}…` : text;
}

function errorReply(request: Message, error: unknown): Message {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  const headers: Headers = { [ERROR_HEADER]: message };
  if (code !== undefined) headers[ERROR_CODE_HEADER] = code;
  return { id: request.id, subject: request.subject, data: new Uint8Array(0), headers };
}

/** Without onError, the first handler failure of a subscription is printed; later ones are not. */
function reportOnce(pattern: string): (error: unknown) => void {
  let warned = false;
  return (error) => {
    if (warned) return;
    warned = true;
    console.error(`@msg/core: a handler of subscription "${pattern}" threw (reported once; pass onError to see each):`, error);
  };
}
