// Publish/subscribe over the transport's PUB socket and SUB socket. Subscribing sets a prefix filter
// on the SUB socket ("TOPIC " for a topic, the literal part before the first wildcard for a pattern);
// nanomsg filters by prefix and the core matches patterns exactly.

import { type Deliver, type Message, type Stop, Kind, hasWildcard } from '@msg/core';
import { badFrame } from './socket.js';
import type { Mesh } from './mesh.js';
import { type Wire, encodeNamed, nameEnd, readBody } from './wire.js';

/** The SUB prefix that lets through every topic `pattern` can match. */
export function prefixOf(pattern: string): string {
  if (!hasWildcard(pattern)) return `${pattern} `;
  const tokens = pattern.split('.');
  const literal = tokens.slice(0, tokens.findIndex((token) => token === '*' || token === '>'));
  return literal.length === 0 ? '' : `${literal.join('.')}.`;
}

export class PubSub {
  readonly #exact = new Map<string, Set<Deliver>>();
  readonly #wildcard = new Set<Deliver>();
  /** How many subscriptions use each SUB prefix: nanomsg's filter is set once per prefix. */
  readonly #prefixes = new Map<string, number>();

  constructor(
    readonly mesh: Mesh,
    readonly wire: Wire,
  ) {}

  publish(message: Message): void {
    // PUB never blocks: a subscriber whose buffer is full misses the message (at-most-once).
    this.mesh.publisher.send(encodeNamed(Kind.publish, message, this.wire));
  }

  async subscribe(pattern: string, deliver: Deliver): Promise<Stop> {
    const prefix = prefixOf(pattern);
    const count = this.#prefixes.get(prefix) ?? 0;
    if (count === 0) this.mesh.subscriber.subscribe(prefix);
    this.#prefixes.set(prefix, count + 1);
    if (hasWildcard(pattern)) this.#wildcard.add(deliver);
    else {
      let set = this.#exact.get(pattern);
      if (!set) this.#exact.set(pattern, (set = new Set()));
      set.add(deliver);
    }
    // SUB filters locally: the links to this process's peers were proven when the transport started,
    // so this takes effect now; those to other processes' are proven here (see mesh.ts).
    await this.mesh.hearRemotes(this.mesh.ear('publish'));
    return async () => {
      this.#wildcard.delete(deliver);
      const set = this.#exact.get(pattern);
      set?.delete(deliver);
      if (set?.size === 0) this.#exact.delete(pattern);
      const left = (this.#prefixes.get(prefix) ?? 1) - 1;
      if (left > 0) this.#prefixes.set(prefix, left);
      else {
        this.#prefixes.delete(prefix);
        this.mesh.subscriber.unsubscribe(prefix);
      }
    };
  }

  /** A NAME SP BODY frame from the SUB socket. Malformed frames are dropped. */
  received(frame: Buffer): void {
    const end = nameEnd(frame);
    if (end <= 0) return;
    const topic = frame.toString('utf8', 0, end);
    const exact = this.#exact.get(topic);
    if (!exact && this.#wildcard.size === 0) return;
    let message: Message;
    try {
      message = readBody(frame.subarray(end + 1), topic);
    } catch (error) {
      return badFrame(this.mesh.settings, `the subscription to "${topic}"`, error);
    }
    if (exact) for (const deliver of exact) deliver(message);
    for (const deliver of this.#wildcard) deliver(message);
  }
}
