// The discovery service, on the toolkit's own survey pattern (as in the nanomsg scalability protocols
// article): a discovery node on a known endpoint surveys "what is out there?" at an interval, and
// every node that joined answers with its sealed announcement. The question carries what the node
// heard from the others in the last round, so each member learns the rest from it. Several discovery
// nodes may run side by side: members join all of them and no one of them is a single point of failure.

import type { Transport } from '@msg/core';
import type { Meeting } from './discovery.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_SECRET } from './discovery.js';
import { open, secretBytes } from './record.js';

/** The survey topic the discovery nodes ask on and members answer. */
export const DISCOVERY_TOPIC = 'msg.discovery';

/** Packets one after another, each after its length (4 bytes, big-endian). */
function pack(packets: readonly Uint8Array[]): Uint8Array {
  const out = Buffer.alloc(packets.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const packet of packets) {
    out.writeUInt32BE(packet.length, at);
    out.set(packet, at + 4);
    at += 4 + packet.length;
  }
  return out;
}

function unpack(data: Uint8Array): Buffer[] {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
  const packets: Buffer[] = [];
  for (let at = 0; at + 4 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    if (at + 4 + length > bytes.length) break;
    packets.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return packets;
}

/**
 * A member of the discovery service: `open` creates the transport that joins the discovery nodes
 * (a transport of the same adapter, given their endpoints to connect to); it answers every survey
 * with this node's latest announcement and hears the others' in the question.
 */
export function surveyMeeting(openTransport: () => Promise<Transport>): Meeting {
  let transport: Transport | undefined;
  let latest: Buffer | undefined;
  return {
    async start(hear) {
      transport = await openTransport();
      await transport.respond(DISCOVERY_TOPIC, (question) => {
        for (const packet of unpack(question.data)) hear(packet);
        return latest ?? new Uint8Array(0);
      });
    },
    async announce(packet) {
      latest = packet;
    },
    async close() {
      await transport?.close();
      transport = undefined;
    },
  };
}

export interface DiscoveryNodeOptions {
  /** The network's shared secret: answers sealed with another are dropped and counted. */
  secret?: string | Uint8Array;
  /** Milliseconds between two surveys. Default 1,000, as the members' heartbeat. */
  intervalMs?: number;
  /** Milliseconds each survey waits for answers. Default a third of the interval. */
  deadlineMs?: number;
}

export interface DiscoveryNode {
  /** Members heard within their expiry. */
  readonly members: number;
  /** Answers dropped because their MAC was wrong or they were not announcements. */
  readonly rejected: number;
  close(): Promise<void>;
}

interface Heard {
  readonly packet: Buffer;
  readonly seq: number;
  readonly until: number;
  /** A goodbye, forwarded until it expires so every member forgets that node. */
  readonly bye: boolean;
}

/**
 * Runs a discovery node on `transport` (one bound on the known endpoint, e.g.
 * `zmq+tcp://HOST?bind=tcp://HOST:PORT&pattern=survey`) until closed. A member is forwarded for as
 * long as its announcement's expiry since it last answered: one that stops answering is then dropped.
 */
export function serveDiscovery(transport: Transport, options: DiscoveryNodeOptions = {}): DiscoveryNode {
  const secret = secretBytes(options.secret ?? DEFAULT_SECRET);
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const deadlineMs = options.deadlineMs ?? Math.max(50, Math.round(intervalMs / 3));
  const heard = new Map<string, Heard>();
  let rejected = 0;
  let closed = false;
  let round: Promise<void> = Promise.resolve();

  const ask = async () => {
    const now = Date.now();
    for (const [node, entry] of heard) if (entry.until < now) heard.delete(node);
    const question = pack([...heard.values()].map((entry) => entry.packet));
    try {
      for await (const answer of transport.survey(DISCOVERY_TOPIC, question, { deadline: deadlineMs })) {
        if (answer.data.length === 0) continue;
        const packet = Buffer.from(answer.data);
        const announcement = open(packet, secret);
        if (!announcement) {
          rejected++;
          continue;
        }
        const known = heard.get(announcement.node);
        if (known && known.seq >= announcement.seq) continue;
        heard.set(announcement.node, { packet, seq: announcement.seq, until: Date.now() + announcement.expiry, bye: announcement.bye });
      }
    } catch {
      // A survey cut short (the transport closing) is simply the last round.
    }
  };
  const timer = setInterval(() => {
    if (!closed) round = round.then(ask);
  }, intervalMs);
  round = ask();
  return {
    get members() {
      let members = 0;
      for (const entry of heard.values()) if (!entry.bye) members++;
      return members;
    },
    get rejected() {
      return rejected;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await round;
    },
  };
}
