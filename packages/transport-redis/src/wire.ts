// Where each pattern lives in Redis, and how messages are framed there. Every key and channel starts
// with the transport's prefix, so one server can host several applications (and tests) side by side.
//
//   <prefix>:ps:<topic>      pub/sub channel of a topic
//   <prefix>:st:<topic>      stream of a topic (durable profile)
//   <prefix>:rq:<service>    list of a service's pending requests
//   <prefix>:rp:<service>    channel its repliers subscribe to, so requesters can count them
//   <prefix>:in:<transport>  channel where one transport receives replies and survey answers
//   <prefix>:sv:<topic>      channel of a survey topic
//   <prefix>:bus:<group>     channel of a bus group
//
// On Redis Cluster the topic or service in a key or presence channel is a hash tag ({topic}); the
// other channels are classic pub/sub, which a cluster carries to every node.

import { BadFrameError, type Envelope, type Kind, type Message, decodeEnvelope, encodeEnvelope, isEnvelope, nextId } from '@msg/core';

export class Names {
  readonly #prefix: string;
  readonly #globPrefix: string;
  readonly #tagged: boolean;

  /**
   * @param tagged on Redis Cluster: the name of a topic or service in a key is a hash tag
   *   (`<prefix>:st:{orders.new}`), so that a service's request list and presence channel share
   *   one slot, as the script that pushes a request needs.
   */
  constructor(prefix: string, tagged = false) {
    this.#prefix = prefix;
    this.#globPrefix = prefix.replace(/[*?[\]\\]/g, '\\$&');
    this.#tagged = tagged;
  }

  #tag(name: string): string {
    return this.#tagged ? `{${name}}` : name;
  }

  topic(topic: string): string {
    return `${this.#prefix}:ps:${topic}`;
  }

  /** The topic a pub/sub channel carries. */
  topicOf(channel: string): string {
    return channel.slice(this.#prefix.length + 4);
  }

  /**
   * A PSUBSCRIBE glob for a core pattern. Redis's `*` also crosses dots, so `a.*` matches `a.b.c`
   * too: the glob over-matches and the core keeps only exact matches. Names cannot hold the glob's
   * special characters (the core allows only letters, digits, `-`, `_` and dots), so only the
   * prefix needs escaping.
   */
  topicGlob(pattern: string): string {
    const tokens = pattern.split('.').map((token) => (token === '>' ? '*' : token));
    return `${this.#globPrefix}:ps:${tokens.join('.')}`;
  }

  stream(topic: string): string {
    return `${this.#prefix}:st:${this.#tag(topic)}`;
  }

  requests(service: string): string {
    return `${this.#prefix}:rq:${this.#tag(service)}`;
  }

  repliers(service: string): string {
    return `${this.#prefix}:rp:${this.#tag(service)}`;
  }

  inbox(transportId: string): string {
    return `${this.#prefix}:in:${transportId}`;
  }

  survey(topic: string): string {
    return `${this.#prefix}:sv:${topic}`;
  }

  bus(group: string): string {
    return `${this.#prefix}:bus:${group}`;
  }
}

/** The core envelope as a Buffer, which ioredis sends as is. */
export function frame(kind: Kind, message: Message, replyTo = ''): Buffer {
  const bytes = encodeEnvelope(kind, message, replyTo);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes an envelope of the expected kind; throws BadFrameError otherwise. */
export function unframe(bytes: Buffer, kind: Kind): Envelope {
  const envelope = decodeEnvelope(bytes);
  if (envelope.kind !== kind) {
    throw new BadFrameError(`expected envelope kind ${kind}, got ${envelope.kind}`);
  }
  return envelope;
}

/**
 * A message published on a topic's channel: ours carry the envelope; a plain payload published by a
 * native Redis client (redis-cli PUBLISH) is delivered as it is, with a fresh id and no headers.
 */
export function publishedMessage(bytes: Buffer, topic: string): Message {
  if (!isEnvelope(bytes)) return { id: nextId(), subject: topic, data: bytes, headers: {} };
  return decodeEnvelope(bytes).message;
}
