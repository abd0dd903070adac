// Publish/subscribe plumbing shared by pub/sub, survey questions and the bus. Each transport binds one
// XPUB and connects one SUB to every publisher in the directory. The first frame is the topic, so
// libzmq filters by prefix at the publisher; this side then routes each message by its exact topic.

import { type Deliver, type Message, hasWildcard, matchSubject } from '@msg/core';
import { Subscriber, XPublisher } from 'zeromq';
import type { Directory } from '@msg/discovery';
import { type Frame, type SocketSettings, bindTo, closeBinding, forBinding, forConnecting, send } from './sockets.js';
import { ACK_PREFIX, BYE, Kind, body, readMessage } from './wire.js';

type Frames = Buffer[];
/** Takes a message whose first frame is a topic this route listens to. */
export type Route = (topic: string, frames: Frames) => void;

/** This transport's publisher. It also answers subscription confirmations (see Subscriptions). */
export class Publishing {
  readonly endpoint: string;
  #socket: XPublisher;
  #settings: SocketSettings;

  private constructor(socket: XPublisher, settings: SocketSettings, endpoint: string) {
    this.#socket = socket;
    this.#settings = settings;
    this.endpoint = endpoint;
    void this.#confirmSubscriptions();
  }

  static async open(settings: SocketSettings, base: string, exact: string | undefined): Promise<Publishing> {
    const socket = forBinding(new XPublisher(), settings);
    try {
      return new Publishing(socket, settings, await bindTo(socket, settings, base, exact));
    } catch (error) {
      closeBinding(socket, settings);
      throw error;
    }
  }

  /** Binds more endpoints, for peers configured by hand; each gets every message from now on. */
  async bindAlso(endpoints: readonly string[]): Promise<void> {
    for (const endpoint of endpoints) await bindTo(this.#socket, this.#settings, endpoint, endpoint);
  }

  /** An XPUB never blocks: past the high-water mark of a subscriber it drops that subscriber's copy. */
  send(frames: Frame[]): Promise<void> {
    return send(this.#socket, frames);
  }

  // A subscriber subscribes to a unique "~ack:" token after its real subscriptions; subscriptions on
  // one connection are applied in order, so echoing the token tells it the earlier ones are active.
  async #confirmSubscriptions(): Promise<void> {
    const endpoint = this.endpoint;
    try {
      for await (const [frame] of this.#socket) {
        if (frame === undefined || frame[0] !== 1) continue;
        const topic = frame.toString('utf8', 1);
        if (topic.startsWith(ACK_PREFIX)) await send(this.#socket, [topic, endpoint]);
      }
    } catch {
      // The socket was closed.
    }
  }

  /**
   * Says goodbye to every subscriber, after everything published before, and closes. libzmq keeps
   * sending what is queued for up to the linger; the goodbye tells a subscriber it has read it all.
   */
  close(): void {
    send(this.#socket, [BYE, this.endpoint]).catch(() => {
      // Dropped (a subscriber past its high-water mark): that subscriber falls back to its timer.
    });
    closeBinding(this.#socket, this.#settings);
  }
}

/**
 * How long a subscriber keeps a publisher that left the directory beyond its linger, when it does not
 * say goodbye: time for this side to read what arrived before the connection closed.
 */
const LEAVE_MARGIN_MS = 500;

interface WildcardRoute {
  readonly pattern: string;
  readonly route: Route;
}

/** This transport's subscriber: one SUB socket, many routes by topic. */
export class Subscriptions {
  #socket: Subscriber;
  #directory: Directory;
  #exact = new Map<string, Set<Route>>();
  #wildcards: WildcardRoute[] = [];
  #unwatch: () => void;
  #confirmTimeout: number;
  #tokens = 0;
  readonly #id: string;
  /** Publishers that left the directory, each with the timer that disconnects it if no goodbye comes. */
  #leaving = new Map<string, NodeJS.Timeout>();
  /** How many peers of the directory list each publisher endpoint: one connection for all of them. */
  #listed = new Map<string, number>();
  readonly #leaveAfter: number;

  constructor(settings: SocketSettings, directory: Directory, confirmTimeout: number, id: string) {
    this.#socket = forConnecting(new Subscriber(), settings);
    this.#directory = directory;
    this.#confirmTimeout = confirmTimeout;
    this.#id = id;
    this.#leaveAfter = Math.max(settings.linger, 0) + LEAVE_MARGIN_MS;
    // Before any connection, so that every publisher has it by the time a subscribe is confirmed.
    this.#socket.subscribe(BYE);
    for (const peer of directory.peers()) if (peer.endpoints.publish) this.#list(peer.endpoints.publish, true);
    this.#unwatch = directory.watch((change) => {
      if (change.kind === 'peer' && change.peer.endpoints.publish) this.#list(change.peer.endpoints.publish, change.added);
    });
    void this.#receive();
  }

  // A publisher that leaves is not disconnected at once: libzmq's disconnect throws away what the
  // pipe holds and this side has not read yet, which includes what the publisher sent just before it
  // closed. Its goodbye, after those messages on the same connection, says they have all been read;
  // without one (a native publisher, or a goodbye dropped) the timer ends it after the linger.
  #list(endpoint: string, added: boolean): void {
    const count = (this.#listed.get(endpoint) ?? 0) + (added ? 1 : -1);
    if (count > 0) this.#listed.set(endpoint, count);
    else this.#listed.delete(endpoint);
    // Only the first listing connects and only the last removal disconnects.
    if (added ? count === 1 : count === 0) this.#follow(endpoint, added);
  }

  #follow(endpoint: string, added: boolean): void {
    const leaving = this.#leaving.get(endpoint);
    if (added) {
      // Back before it was disconnected: the connection is still there, and libzmq reconnects it.
      if (leaving) {
        clearTimeout(leaving);
        this.#leaving.delete(endpoint);
        return;
      }
      try {
        this.#socket.connect(endpoint);
      } catch {
        // Closed meanwhile: nothing to connect.
      }
    } else if (!leaving) {
      this.#leaving.set(endpoint, setTimeout(() => this.#disconnect(endpoint), this.#leaveAfter));
    }
  }

  #disconnect(endpoint: string): void {
    clearTimeout(this.#leaving.get(endpoint));
    this.#leaving.delete(endpoint);
    try {
      this.#socket.disconnect(endpoint);
    } catch {
      // Not connected (or already closed): nothing to undo.
    }
  }

  async #receive(): Promise<void> {
    try {
      for await (const frames of this.#socket) this.#route(frames);
    } catch {
      // The socket was closed.
    }
  }

  #route(frames: Frames): void {
    const first = frames[0];
    if (first === undefined) return;
    const topic = first.toString();
    if (topic === BYE) {
      const endpoint = frames[1]?.toString() ?? '';
      // A publisher still listed (or listed again under its endpoint) stays connected.
      if (this.#leaving.has(endpoint)) this.#disconnect(endpoint);
      return;
    }
    const routes = this.#exact.get(topic);
    if (routes) for (const route of routes) route(topic, frames);
    if (this.#wildcards.length > 0 && !topic.startsWith('~')) {
      for (const { pattern, route } of this.#wildcards) if (matchSubject(pattern, topic)) route(topic, frames);
    }
  }

  /**
   * Routes messages whose topic is `topic` (or matches the wildcard pattern) to `route`, and resolves
   * once every publisher that confirms subscriptions has applied it.
   */
  async listen(topic: string, route: Route): Promise<() => void> {
    const prefix = subscriptionPrefix(topic);
    const wildcard = hasWildcard(topic) ? { pattern: topic, route } : undefined;
    if (wildcard) this.#wildcards.push(wildcard);
    else addTo(this.#exact, topic, route);
    this.#socket.subscribe(prefix);
    await this.#confirm();
    return () => {
      if (wildcard) this.#wildcards = this.#wildcards.filter((w) => w !== wildcard);
      else removeFrom(this.#exact, topic, route);
      if (!this.#socket.closed) this.#socket.unsubscribe(prefix);
    };
  }

  async #confirm(): Promise<void> {
    // msg transports (peers with an id) confirm; a native publisher never would.
    const waiting = new Set(this.#directory.peers().flatMap((p) => (p.id !== undefined && p.endpoints.publish ? [p.endpoints.publish] : [])));
    if (waiting.size === 0) return;
    const token = `${ACK_PREFIX}${this.#id}.${++this.#tokens}`;
    let timer: NodeJS.Timeout | undefined;
    let done!: () => void;
    const confirmed = new Promise<void>((resolve) => {
      done = resolve;
      // A publisher that vanished without leaving the directory cannot confirm: stop waiting.
      timer = setTimeout(resolve, this.#confirmTimeout);
    });
    const route: Route = (_topic, frames) => {
      waiting.delete(frames[1]?.toString() ?? '');
      if (waiting.size === 0) done();
    };
    addTo(this.#exact, token, route);
    this.#socket.subscribe(token);
    try {
      await confirmed;
    } finally {
      clearTimeout(timer);
      removeFrom(this.#exact, token, route);
      if (!this.#socket.closed) this.#socket.unsubscribe(token);
    }
  }

  close(): void {
    this.#unwatch();
    for (const timer of this.#leaving.values()) clearTimeout(timer);
    this.#leaving.clear();
    this.#socket.close();
  }
}

/** Delivers messages published to topics that `pattern` matches. */
export function subscribe(subscriptions: Subscriptions, pattern: string, deliver: Deliver): Promise<() => void> {
  return subscriptions.listen(pattern, (topic, frames) => {
    const message = readMessage(topic, frames[1], frames[2]);
    if (message) deliver(message);
  });
}

export function publishFrames(message: Message): Frame[] {
  return [message.subject, ...body(Kind.publish, message)];
}

/**
 * The prefix libzmq filters by: the topic itself, or for a wildcard pattern the part before its first
 * wildcard token (`orders.*.eu` subscribes to `orders.`). Prefixes over-match; routes filter exactly.
 */
export function subscriptionPrefix(pattern: string): string {
  if (!hasWildcard(pattern)) return pattern;
  const tokens = pattern.split('.');
  const literal = tokens.findIndex((t) => t === '*' || t === '>');
  return tokens.slice(0, literal).map((t) => `${t}.`).join('');
}

function addTo(map: Map<string, Set<Route>>, key: string, route: Route): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(route);
}

function removeFrom(map: Map<string, Set<Route>>, key: string, route: Route): void {
  const set = map.get(key);
  set?.delete(route);
  if (set?.size === 0) map.delete(key);
}
