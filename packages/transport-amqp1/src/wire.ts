// How a core Message travels as an AMQP 1.0 message, and where: topics are `topic://<prefix><name>`
// (the prefix makes them ActiveMQ virtual topics, which queue groups need), services are queues
// `queue://<name>`, the data is one data section, headers are application properties, a request's
// id is the correlation id. The at-least-once profile also sends the message id, so that a
// redelivery keeps it. Each message is encoded here, once, so that its size is known before it is
// sent: a broker drops the connection of a client that sends more than its frame limit.

import { type Headers, InvalidArgumentError, type Message, PayloadTooLargeError, nextId } from '@msg/core';
import rhea, { type Message as AmqpMessage } from 'rhea';

/**
 * Room kept in the broker's limit for what travels beside the data: addresses, properties,
 * headers and the AMQP encoding. The data may take the rest; data and the rest together may not
 * exceed the limit.
 */
export const HEADER_ROOM = 4096;
/** ActiveMQ's shipped configuration sets `maxFrameSize=104857600` on its connectors: 100 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 104_857_600;
/** ActiveMQ Classic's virtual topics, as it ships them (`VirtualTopic.>`). */
export const DEFAULT_TOPIC_PREFIX = 'VirtualTopic.';

/** The bus member that sent a message, so that it can skip its own. */
export const SENDER_PROPERTY = 'msg-sender';

const TOPIC = 'topic://';
const QUEUE = 'queue://';
const DATA_SECTION = 0x75;

export class Addresses {
  readonly #prefix: string;
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** `orders.created` → `topic://VirtualTopic.orders.created`; patterns too: ActiveMQ's `*` and `>` are the core's. */
  topic(name: string): string {
    return `${TOPIC}${this.#prefix}${name}`;
  }

  /** A service's requests: `queue://<service>`. */
  queue(service: string): string {
    return `${QUEUE}${service}`;
  }

  /**
   * A queue group's share of a topic: the virtual topic's consumer queue `Consumer.<group>.<topic>`.
   * ActiveMQ copies each message of the topic once into every such queue, and a queue hands each
   * message to one of its consumers.
   */
  group(group: string, pattern: string): string {
    if (group.includes('.')) {
      throw new InvalidArgumentError(`amqp1: queue group "${group}" has a dot; ActiveMQ reads the group of "Consumer.<group>.<topic>" as one token, so use "-" or "_" instead`);
    }
    return `${QUEUE}Consumer.${group}.${this.#prefix}${pattern}`;
  }

  /** The core subject of a received topic message, from its `to`; `fallback` when it has none we know. */
  subjectOf(to: string | undefined, fallback: string): string {
    if (to === undefined) return fallback;
    const topic = TOPIC + this.#prefix;
    if (to.startsWith(topic)) return to.slice(topic.length);
    if (to.startsWith(QUEUE)) return to.slice(QUEUE.length);
    return fallback;
  }
}

export interface Outgoing {
  to: string;
  data: Uint8Array;
  headers: Headers;
  /** Bus messages name their sender. */
  extra?: Headers | undefined;
  replyTo?: string | undefined;
  correlationId?: string | undefined;
  messageId?: string | undefined;
  /** Persistent (the at-least-once profile). */
  durable?: boolean | undefined;
  /** Milliseconds the broker keeps it before expiring it (a request nobody took in time). */
  ttl?: number | undefined;
}

function properties(headers: Headers, extra: Headers | undefined): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const key in headers) (out ??= {})[key] = headers[key] as string;
  for (const key in extra) (out ??= {})[key] = extra[key] as string;
  return out;
}

/**
 * Encodes a message as the bytes of one transfer, refusing one the broker would refuse (and drop
 * the connection for): the core let the data through, but data, addresses and headers together
 * exceed the broker's maximum frame size.
 */
export function encode(what: string, out: Outgoing, maxFrameSize: number): Buffer {
  const message: AmqpMessage = { to: out.to, body: rhea.message.data_section(asBuffer(out.data)) };
  const applicationProperties = properties(out.headers, out.extra);
  if (applicationProperties) message.application_properties = applicationProperties;
  if (out.replyTo !== undefined) message.reply_to = out.replyTo;
  if (out.correlationId !== undefined) message.correlation_id = out.correlationId;
  if (out.messageId !== undefined) message.message_id = out.messageId;
  if (out.durable) message.durable = true;
  if (out.ttl !== undefined) message.ttl = Math.max(1, Math.ceil(out.ttl));
  const bytes = rhea.message.encode(message);
  if (bytes.length <= maxFrameSize) return bytes;
  const rest = bytes.length - out.data.length;
  throw new PayloadTooLargeError(bytes.length, maxFrameSize, {
    message:
      `amqp1: ${what}: data of ${out.data.length} bytes plus addresses, headers and encoding of ${rest} bytes make a message of ${bytes.length} bytes, ` +
      `over the broker's maximum frame size of ${maxFrameSize} bytes (data up to ${maxFrameSize - HEADER_ROOM} bytes leaves ${HEADER_ROOM} bytes for the rest); ` +
      'shorten the headers or the data',
  });
}

/** The body as bytes: our data section, or what a native peer sent (a string, binary, or another value as JSON). */
function bodyBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  const section = body as { typecode?: number; content?: unknown };
  if (section.typecode === DATA_SECTION && Buffer.isBuffer(section.content)) return section.content;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  return Buffer.from(JSON.stringify(section.content ?? body));
}

/**
 * A received AMQP message as the core sees it. The id is, in order: the message id (ours, or a
 * native peer's), the correlation id (a request or reply), or a fresh one.
 */
export function decode(message: AmqpMessage, subject: string): Message {
  const headers: Headers = {};
  const received = message.application_properties;
  for (const key in received) {
    if (key !== SENDER_PROPERTY) headers[key] = String(received[key]);
  }
  const id = message.message_id ?? message.correlation_id;
  return { id: id === undefined ? nextId() : String(id), subject, data: bodyBytes(message.body), headers };
}

/** A Buffer over the same bytes, for the client's API; no copy. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
