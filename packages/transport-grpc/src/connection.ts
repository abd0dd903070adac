// One client's Stream call at the hosting node: its registrations in the router, the calls it
// routes through the host, and the calls the host routes to it. Everything ends with the stream.

import type { ServerDuplexStream } from '@grpc/grpc-js';
import { ConnectionError, type Message, PendingReplies, nextId, validateName, validatePattern } from '@msg/core';
import { toFailure } from './errors.js';
import type { Member, Router } from './router.js';
import { Outbox } from './stream.js';
import { type Envelope, type Frame, type Kind, type Open, toEnvelope, toMessage } from './wire.js';

export class Connection {
  readonly #router: Router;
  readonly #stream: ServerDuplexStream<Frame, Frame>;
  readonly #outbox: Outbox;
  /** Registrations by the client's ref, each with what removes it from the router. */
  readonly #registrations = new Map<number, { remove: () => void; member?: Member; group?: string }>();
  /** Calls this client routes through the host, by its call number, to abort on Cancel. */
  readonly #routed = new Map<number, AbortController>();
  /** Calls the host routes to this client (requests, survey questions), by the host's call number. */
  readonly #asked = new PendingReplies();
  #nextCall = 0;
  #ended = false;

  constructor(router: Router, stream: ServerDuplexStream<Frame, Frame>, maxQueued: number) {
    this.#router = router;
    this.#stream = stream;
    // The receiver loop sees the failure; this keeps a second 'error' (after a reset) from being unhandled.
    stream.on('error', () => undefined);
    this.#outbox = new Outbox(maxQueued);
    this.#outbox.attach(stream);
  }

  /** The receiver loop; resolves when the client's stream is gone, after cleaning up. */
  async run(): Promise<void> {
    try {
      // Not destroyed when the client ends its side: the host still ends its own, with an OK
      // status, which is what tells a closing client that every frame it sent was read.
      for await (const frame of this.#stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Frame>) this.#receive(frame);
    } catch {
      // A reset, a cancelled call or an oversized frame: the stream is over either way.
    }
    this.end();
  }

  /** Forgets this client: its registrations leave the router and its calls fail or stop. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const { remove } of this.#registrations.values()) remove();
    this.#registrations.clear();
    for (const controller of this.#routed.values()) controller.abort();
    this.#routed.clear();
    this.#asked.rejectAll(new ConnectionError('grpc: the client that served this went away'));
    this.#outbox.detach();
    if (!this.#stream.writableEnded) this.#stream.end();
  }

  #receive(frame: Frame): void {
    const ref = frame.ref ?? 0;
    const call = frame.call ?? 0;
    try {
      if (frame.envelope) this.#receiveEnvelope(frame.envelope, ref, call);
      else if (frame.open) this.#open(frame.open, ref);
      else if (frame.close) {
        this.#registrations.get(ref)?.remove();
        this.#registrations.delete(ref);
        this.#outbox.force({ ack: {}, ref });
      } else if (frame.cancel) {
        this.#routed.get(call)?.abort();
        this.#routed.delete(call);
      }
    } catch (error) {
      // A frame this host cannot take (a bad name from a foreign client): say so, keep the stream.
      this.#outbox.force({ failure: toFailure(error), ref, call });
    }
  }

  #open(open: Open, ref: number): void {
    const { subject } = open;
    let registration: { remove: () => void; member?: Member; group?: string };
    switch (open.role) {
      case 'SUBSCRIBER': {
        validatePattern(subject);
        if (open.queue !== '') validateName(open.queue);
        const deliver = (message: Message) => void this.#outbox.offer({ envelope: toEnvelope('PUBLISH', message), ref });
        registration = { remove: this.#router.subscribe({ pattern: subject, queue: open.queue || undefined, deliver }) };
        break;
      }
      case 'REPLIER':
        validateName(subject);
        registration = { remove: this.#router.serve(subject, (message, signal) => this.#ask('REQUEST', message, ref, signal)) };
        break;
      case 'RESPONDENT':
        validateName(subject);
        registration = { remove: this.#router.respond(subject, (message, signal) => this.#ask('SURVEY', message, ref, signal)) };
        break;
      case 'MEMBER': {
        validateName(subject);
        const member: Member = { deliver: (message) => void this.#outbox.offer({ envelope: toEnvelope('BUS', message), ref }) };
        registration = { remove: this.#router.join(subject, member), member, group: subject };
        break;
      }
      default:
        throw new ConnectionError(`grpc: unknown role ${String(open.role)}`);
    }
    this.#registrations.get(ref)?.remove();
    this.#registrations.set(ref, registration);
    this.#outbox.force({ ack: {}, ref });
  }

  #receiveEnvelope(envelope: Envelope, ref: number, call: number): void {
    switch (envelope.kind) {
      case 'PUBLISH':
        validateName(envelope.subject);
        return this.#router.publish(received(envelope));
      case 'REQUEST':
        return this.#route(call, (signal) =>
          this.#router.request(received(envelope), signal).then(
            (reply) => void this.#outbox.offer({ envelope: toEnvelope('REPLY', reply), call }),
            (error: unknown) => signal.aborted || void this.#outbox.offer({ failure: toFailure(error), call }),
          ),
        );
      case 'SURVEY':
        return this.#route(call, (signal) =>
          this.#router.survey(received(envelope), signal, (answer) => void this.#outbox.offer({ envelope: toEnvelope('ANSWER', answer), call })),
        );
      case 'REPLY':
      case 'ANSWER':
        this.#asked.resolve(String(call), toMessage(envelope));
        return;
      case 'BUS': {
        // The group is the one the member joined, whatever subject the frame names.
        const { member, group } = this.#registrations.get(ref) ?? {};
        if (member && group !== undefined) this.#router.send(group, member, { ...received(envelope), subject: group });
        return;
      }
      default:
        throw new ConnectionError(`grpc: unknown envelope kind ${String(envelope.kind)}`);
    }
  }

  /** Runs a call routed for the client until it is done or the client cancels it. */
  #route(call: number, start: (signal: AbortSignal) => Promise<unknown> | void): void {
    const controller = new AbortController();
    this.#routed.get(call)?.abort();
    this.#routed.set(call, controller);
    // A request is done with its reply; a survey runs until the client cancels it.
    void start(controller.signal)?.finally(() => {
      if (this.#routed.get(call) === controller) this.#routed.delete(call);
    });
  }

  /** Sends a request or question to this client and waits for its answer. */
  #ask(kind: Kind, message: Message, ref: number, signal: AbortSignal): Promise<Message> {
    const call = (this.#nextCall = (this.#nextCall + 1) >>> 0);
    const answer = this.#asked.wait(String(call), signal);
    if (!this.#outbox.offer({ envelope: toEnvelope(kind, message), ref, call })) {
      this.#asked.reject(String(call), new ConnectionError('grpc: the serving client is not reading; its queue at the host is full'));
    }
    return answer;
  }
}

/** A message from a client, checked: names valid, an id assigned when a foreign client left it empty. */
function received(envelope: Envelope): Message {
  validateName(envelope.subject);
  const message = toMessage(envelope);
  return message.id === '' ? { ...message, id: nextId() } : message;
}
