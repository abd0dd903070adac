// An announcement: what one node (the transports of one directory in one process) serves and where,
// sealed with HMAC-SHA256 under the network's shared secret. A packet is MAGIC, VERSION, the 32-byte
// MAC of the JSON body, then the body. Opening checks the MAC before reading anything else and
// returns undefined for anything that is not a valid announcement: a stranger's packet never throws.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PeerEndpoints } from './directory.js';

export interface Announcement {
  /** Random per process and directory: a restarted node is a new node. */
  readonly node: string;
  /** The adapter whose endpoints these are (`zmq`, `nanomsg`): nodes of another family are ignored. */
  readonly family: string;
  /** Grows with every announcement of the node, so a replayed or reordered older one is dropped. */
  readonly seq: number;
  /** Milliseconds after which the node is forgotten unless it announces again. */
  readonly expiry: number;
  /** A clean goodbye: forget the node now. */
  readonly bye: boolean;
  /** [service, endpoint] of every replier. */
  readonly services: readonly (readonly [string, string])[];
  /** The node's transports: the id of each and its broadcast endpoints. */
  readonly peers: readonly { readonly id: string; readonly endpoints: PeerEndpoints }[];
}

const MAGIC = Buffer.from('MSGD', 'latin1');
const VERSION = 1;
const MAC_BYTES = 32;
const HEAD = MAGIC.length + 1 + MAC_BYTES;
/** What fits one UDP datagram; an announcement is far smaller unless a node serves thousands of names. */
export const MAX_PACKET = 60_000;

export function seal(announcement: Announcement, secret: Uint8Array): Buffer {
  const body = Buffer.from(JSON.stringify(announcement));
  return Buffer.concat([MAGIC, Buffer.of(VERSION), mac(secret, body), body]);
}

/** The announcement in `packet`, or undefined when it is malformed or not sealed with `secret`. */
export function open(packet: Uint8Array, secret: Uint8Array): Announcement | undefined {
  if (packet.length <= HEAD || packet.length > MAX_PACKET) return undefined;
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC) || bytes[MAGIC.length] !== VERSION) return undefined;
  const body = bytes.subarray(HEAD);
  if (!timingSafeEqual(bytes.subarray(MAGIC.length + 1, HEAD), mac(secret, body))) return undefined;
  try {
    return parse(JSON.parse(body.toString('utf8')));
  } catch {
    return undefined;
  }
}

function mac(secret: Uint8Array, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 1024;

/** Only the fields we read, each checked: a sealed packet from a buggy peer is still refused whole. */
function parse(value: unknown): Announcement | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { node, family, seq, expiry, bye, services, peers } = value as Record<string, unknown>;
  if (!isString(node) || !isString(family) || !Number.isSafeInteger(seq) || !Number.isSafeInteger(expiry) || (expiry as number) <= 0) return undefined;
  if (typeof bye !== 'boolean' || !Array.isArray(services) || !Array.isArray(peers)) return undefined;
  if (!services.every((s) => Array.isArray(s) && s.length === 2 && isString(s[0]) && isString(s[1]))) return undefined;
  const goodPeer = (p: unknown) => {
    if (typeof p !== 'object' || p === null) return false;
    const { id, endpoints } = p as Record<string, unknown>;
    if (!isString(id) || typeof endpoints !== 'object' || endpoints === null) return false;
    return Object.entries(endpoints).every(([role, endpoint]) => (role === 'publish' || role === 'survey' || role === 'bus') && isString(endpoint));
  };
  if (!peers.every(goodPeer)) return undefined;
  return { node, family, seq: seq as number, expiry: expiry as number, bye, services, peers } as Announcement;
}

/** The secret as bytes; a string is taken as UTF-8. */
export function secretBytes(secret: string | Uint8Array): Uint8Array {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
}
