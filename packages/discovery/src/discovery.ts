// A node of discovery: it announces what the transports of its directory serve, at every heartbeat and
// at once on a change, and lists what the other nodes announce in its directory, origin-tagged, until
// they say goodbye or stay silent past their expiry. How announcements travel is a Meeting: UDP
// beacons (beacon.ts) or a survey by discovery nodes (survey.ts).

import { randomUUID } from 'node:crypto';
import { ConnectionError, type MsgError } from '@msg/core';
import type { Directory, Peer, PeerEndpoints } from './directory.js';
import { type Announcement, MAX_PACKET, open, seal, secretBytes } from './record.js';

/** How announcements reach the other nodes and theirs reach this one. */
export interface Meeting {
  /** Starts hearing: every packet that arrives goes to `hear`, unchecked. */
  start(hear: (packet: Buffer) => void): Promise<void>;
  /** Hands over this node's latest sealed announcement: sent at once, or kept for the next question. */
  announce(packet: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface DiscoveryOptions {
  /** The adapter (`zmq`, `nanomsg`): announcements of another family are ignored. */
  family: string;
  /** The network's shared secret; announcements sealed with another are dropped and counted. */
  secret?: string | Uint8Array;
  meetings: readonly Meeting[];
  /** Milliseconds between two announcements of this node (its heartbeat). Default 1,000. */
  intervalMs?: number;
  /** Milliseconds a silent node is remembered. Default three intervals and a half. */
  expiryMs?: number;
  /** Failures no caller waits for (an announcement that could not be sent). Default: the first on console.warn. */
  onError?: (error: MsgError) => void;
}

/**
 * The secret when none is given. It is public, so it keeps apart only what is not meant to meet; on
 * a network where strangers can send packets, give a secret of your own.
 */
export const DEFAULT_SECRET = 'msg-discovery';
export const DEFAULT_INTERVAL_MS = 1000;

interface Known {
  seq: number;
  timer: NodeJS.Timeout;
  services: Map<string, [string, string]>;
  peers: Map<string, () => void>;
}

/** Nodes forgotten are remembered by their last sequence number, so a replay does not bring one back. */
const GONE_KEPT = 10_000;

export class Discovery {
  readonly node = randomUUID();
  readonly family: string;
  readonly intervalMs: number;
  readonly expiryMs: number;
  /** Packets dropped because their MAC was wrong or they were not announcements. */
  rejected = 0;
  readonly #directory: Directory;
  readonly #secret: Uint8Array;
  readonly #meetings: readonly Meeting[];
  readonly #onError: (error: MsgError) => void;
  readonly #known = new Map<string, Known>();
  readonly #gone = new Map<string, number>();
  #seq = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  #unwatch: (() => void) | undefined;
  #closed = false;

  constructor(directory: Directory, options: DiscoveryOptions) {
    this.#directory = directory;
    this.family = options.family;
    this.#secret = secretBytes(options.secret ?? DEFAULT_SECRET);
    this.#meetings = options.meetings;
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.expiryMs = options.expiryMs ?? Math.round(this.intervalMs * 3.5);
    this.#onError = options.onError ?? warnOnce();
  }

  /** Nodes heard and not yet forgotten. */
  get nodes(): number {
    return this.#known.size;
  }

  async start(): Promise<void> {
    this.#unwatch = this.#directory.watch((change) => {
      const local = change.kind === 'service' ? this.#isOwnService(change.name, change.endpoint) : change.peer.origin === undefined && change.peer.id !== undefined;
      if (local) this.#announceSoon();
    });
    await Promise.all(this.#meetings.map((meeting) => meeting.start((packet) => this.#hear(packet))));
    this.#heartbeat = setInterval(() => this.#announce(false), this.intervalMs);
    this.#heartbeat.unref();
    this.#announce(false);
  }

  /** Says goodbye, stops hearing, and removes from the directory what the other nodes announced. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch?.();
    clearInterval(this.#heartbeat);
    if (this.#soon) clearImmediate(this.#soon);
    await this.#send(true);
    await Promise.all(this.#meetings.map((meeting) => meeting.close().catch(() => undefined))); // each one's own socket errors, at close
    for (const node of [...this.#known.keys()]) this.#forget(node);
  }

  // A removed service still counts as this node's: the announcement that leaves it out is the news.
  #isOwnService(name: string, endpoint: string): boolean {
    for (const [service, served] of this.#directory.entries()) if (service === name && served.endpoint === endpoint) return served.origin === undefined;
    return true;
  }

  #announceSoon(): void {
    if (this.#soon || this.#closed) return;
    this.#soon = setImmediate(() => {
      this.#soon = undefined;
      this.#announce(false);
    });
  }

  #announce(bye: boolean): void {
    void this.#send(bye);
  }

  async #send(bye: boolean): Promise<void> {
    const packet = seal(this.#own(bye), this.#secret);
    if (packet.length > MAX_PACKET) {
      this.#onError(new ConnectionError(`discovery: this node's announcement is ${packet.length} bytes, more than the ${MAX_PACKET} one packet holds; serve fewer names per process`));
      return;
    }
    await Promise.all(
      this.#meetings.map((meeting) =>
        meeting.announce(packet).catch((error: unknown) => this.#onError(new ConnectionError(`discovery: cannot send this node's announcement: ${(error as Error).message}`, { cause: error }))),
      ),
    );
  }

  #own(bye: boolean): Announcement {
    const services: [string, string][] = [];
    const peers: { id: string; endpoints: PeerEndpoints }[] = [];
    if (!bye) {
      for (const [name, { endpoint, origin }] of this.#directory.entries()) if (origin === undefined) services.push([name, endpoint]);
      for (const peer of this.#directory.peers()) if (peer.origin === undefined && peer.id !== undefined) peers.push({ id: peer.id, endpoints: peer.endpoints });
    }
    return { node: this.node, family: this.family, seq: ++this.#seq, expiry: this.expiryMs, bye, services, peers };
  }

  #hear(packet: Buffer): void {
    if (this.#closed) return;
    const announcement = open(packet, this.#secret);
    if (!announcement) {
      this.rejected++;
      return;
    }
    const { node, family, seq } = announcement;
    if (node === this.node || family !== this.family) return;
    const known = this.#known.get(node);
    if (seq <= (known?.seq ?? this.#gone.get(node) ?? 0)) return;
    if (announcement.bye) {
      this.#forget(node);
      this.#remember(node, seq);
      return;
    }
    this.#update(announcement, known);
    // A node heard for the first time has just started, most likely: tell it now rather than at the next heartbeat.
    if (!known) this.#announceSoon();
  }

  #update(announcement: Announcement, known: Known | undefined): void {
    const { node } = announcement;
    const entry: Known = known ?? { seq: 0, timer: undefined as unknown as NodeJS.Timeout, services: new Map(), peers: new Map() };
    entry.seq = announcement.seq;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.#forget(node), Math.min(announcement.expiry, 2 ** 31 - 1));
    entry.timer.unref();
    if (!known) this.#known.set(node, entry);
    const services = new Map(announcement.services.map(([name, endpoint]) => [`${name}\n${endpoint}`, [name, endpoint] as [string, string]]));
    for (const [key, [name, endpoint]] of entry.services) {
      if (services.has(key)) continue;
      entry.services.delete(key);
      this.#directory.removeService(name, endpoint);
    }
    for (const [key, [name, endpoint]] of services) {
      if (entry.services.has(key)) continue;
      entry.services.set(key, [name, endpoint]);
      this.#directory.addService(name, endpoint, node);
    }
    const peers = new Map(announcement.peers.map((p) => [JSON.stringify([p.id, p.endpoints.publish, p.endpoints.survey, p.endpoints.bus]), p]));
    for (const [key, remove] of entry.peers) {
      if (peers.has(key)) continue;
      entry.peers.delete(key);
      remove();
    }
    for (const [key, p] of peers) {
      if (entry.peers.has(key)) continue;
      const peer: Peer = { id: p.id, endpoints: p.endpoints, origin: node };
      entry.peers.set(key, this.#directory.addPeer(peer));
    }
  }

  #forget(node: string): void {
    const known = this.#known.get(node);
    if (!known) return;
    clearTimeout(known.timer);
    this.#known.delete(node);
    this.#remember(node, known.seq);
    for (const [name, endpoint] of known.services.values()) this.#directory.removeService(name, endpoint);
    for (const remove of known.peers.values()) remove();
  }

  #remember(node: string, seq: number): void {
    this.#gone.set(node, seq);
    if (this.#gone.size > GONE_KEPT) this.#gone.delete(this.#gone.keys().next().value as string);
  }
}

function warnOnce(): (error: MsgError) => void {
  let warned = false;
  return (error) => {
    if (warned) return;
    warned = true;
    console.warn(`@msg/discovery: ${error.message} (reported once; pass onError to see each)`);
  };
}
