// A compact binary envelope for adapters whose backend carries only bytes (nanomsg, ZeroMQ frames,
// Redis pub/sub). Layout, all integers big-endian:
//   u8  magic 0xA7   u8 version 1   u8 kind
//   u8  id length          id (UTF-8)
//   u16 subject length     subject (UTF-8)
//   u8  reply-to length    reply-to (UTF-8, empty when none)
//   u16 header count, then per header: u16 key length, key, u32 value length, value (UTF-8)
//   the rest: data, as is
// Bytes that do not start with the magic byte are not an envelope (see `isEnvelope`), so an adapter
// can tell a native peer's plain payload from ours.

import { BadFrameError } from './errors.js';
import type { Headers, Message } from './message.js';

export const ENVELOPE_MAGIC = 0xa7;
export const ENVELOPE_VERSION = 1;

export const Kind = {
  publish: 1,
  request: 2,
  reply: 3,
  survey: 4,
  answer: 5,
  bus: 6,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface Envelope {
  kind: Kind;
  message: Message;
  /** Where the answer goes (a reply channel, an inbox), when the kind needs one. */
  replyTo: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function isEnvelope(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === ENVELOPE_MAGIC && bytes[1] === ENVELOPE_VERSION;
}

export function encodeEnvelope(kind: Kind, message: Message, replyTo = ''): Uint8Array {
  const id = encoder.encode(message.id);
  const subject = encoder.encode(message.subject);
  const reply = encoder.encode(replyTo);
  if (id.length > 255 || reply.length > 255 || subject.length > 65535) {
    throw new BadFrameError('id and reply-to must fit in 255 bytes and the subject in 65535');
  }
  const headerKeys = Object.keys(message.headers);
  const headerBytes: Uint8Array[] = [];
  let size = 3 + 1 + id.length + 2 + subject.length + 1 + reply.length + 2 + message.data.length;
  for (const key of headerKeys) {
    const k = encoder.encode(key);
    const v = encoder.encode(message.headers[key]);
    headerBytes.push(k, v);
    size += 2 + k.length + 4 + v.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = ENVELOPE_MAGIC;
  out[at++] = ENVELOPE_VERSION;
  out[at++] = kind;
  out[at++] = id.length;
  out.set(id, at);
  at += id.length;
  view.setUint16(at, subject.length);
  at += 2;
  out.set(subject, at);
  at += subject.length;
  out[at++] = reply.length;
  out.set(reply, at);
  at += reply.length;
  view.setUint16(at, headerKeys.length);
  at += 2;
  for (let i = 0; i < headerBytes.length; i += 2) {
    const k = headerBytes[i] as Uint8Array;
    const v = headerBytes[i + 1] as Uint8Array;
    view.setUint16(at, k.length);
    at += 2;
    out.set(k, at);
    at += k.length;
    view.setUint32(at, v.length);
    at += 4;
    out.set(v, at);
    at += v.length;
  }
  out.set(message.data, at);
  return out;
}

/** Decodes an envelope; throws BadFrameError on anything malformed, never reads out of bounds. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (!isEnvelope(bytes)) throw new BadFrameError('not a msg envelope: wrong magic byte or version');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new BadFrameError(`truncated envelope: needs ${at + n} bytes, has ${bytes.length}`);
  };
  const text = (length: number) => {
    need(length);
    try {
      return decoder.decode(bytes.subarray(at, (at += length)));
    } catch (cause) {
      throw new BadFrameError('envelope field is not valid UTF-8', { cause });
    }
  };
  const kind = bytes[at++] as Kind;
  if (kind < Kind.publish || kind > Kind.bus) throw new BadFrameError(`unknown envelope kind ${kind}`);
  need(1);
  const id = text(bytes[at++] as number);
  need(2);
  const subjectLength = view.getUint16(at);
  at += 2;
  const subject = text(subjectLength);
  need(1);
  const replyTo = text(bytes[at++] as number);
  need(2);
  const count = view.getUint16(at);
  at += 2;
  const headers: Headers = {};
  for (let i = 0; i < count; i++) {
    need(2);
    const keyLength = view.getUint16(at);
    at += 2;
    const key = text(keyLength);
    need(4);
    const valueLength = view.getUint32(at);
    at += 4;
    headers[key] = text(valueLength);
  }
  return { kind, replyTo, message: { id, subject, headers, data: bytes.subarray(at) } };
}
