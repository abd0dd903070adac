// Frames on the wire. Broadcast patterns (publish, survey question, bus) put the name first, so a
// native SUB peer filters by prefix:  NAME 0x20 BODY.  Request, reply and answer frames are BODY only,
// since the endpoint already says which service. BODY is the msg envelope (it starts with 0xA7 0x01)
// or, from a native peer or in plain mode, the payload as is. A frame starting with 0x01 is a link
// probe, one starting with 0x02 a closing transport's farewell (see mesh.ts), never a message.

import { type Headers, type Message, Kind, decodeEnvelope, encodeEnvelope, isEnvelope, nextId, ENVELOPE_MAGIC, ENVELOPE_VERSION } from '@msg/core';

export const SPACE = 0x20;
export const PROBE = 0x01;
export const FAREWELL = 0x02;
export type Wire = 'envelope' | 'plain';

const NO_HEADERS: Headers = Object.freeze({}) as Headers;

/** BODY alone: the envelope, or in plain mode the payload itself (no copy). */
export function encodeBody(kind: Kind, message: Message, wire: Wire): Uint8Array {
  return wire === 'plain' ? message.data : encodeEnvelope(kind, message);
}

/**
 * NAME SP BODY in one allocation: the envelope is written straight after the name, in the layout of
 * the core's encodeEnvelope, rather than encoded and then copied behind the name.
 */
export function encodeNamed(kind: Kind, message: Message, wire: Wire): Buffer {
  const name = message.subject;
  const nameLength = Buffer.byteLength(name);
  if (wire === 'plain') {
    const frame = Buffer.allocUnsafe(nameLength + 1 + message.data.length);
    frame.write(name, 0, 'utf8');
    frame[nameLength] = SPACE;
    frame.set(message.data, nameLength + 1);
    return frame;
  }
  const idLength = Buffer.byteLength(message.id);
  const keys = Object.keys(message.headers);
  let size = nameLength + 1 + 3 + 1 + idLength + 2 + nameLength + 1 + 2 + message.data.length;
  for (const key of keys) size += 2 + Buffer.byteLength(key) + 4 + Buffer.byteLength(message.headers[key] as string);
  if (idLength > 255 || nameLength > 65535) return Buffer.concat([Buffer.from(`${name} `), encodeEnvelope(kind, message)]);
  const frame = Buffer.allocUnsafe(size);
  let at = frame.write(name, 0, 'utf8');
  frame[at++] = SPACE;
  frame[at++] = ENVELOPE_MAGIC;
  frame[at++] = ENVELOPE_VERSION;
  frame[at++] = kind;
  frame[at++] = idLength;
  at += frame.write(message.id, at, 'utf8');
  at = frame.writeUInt16BE(nameLength, at);
  at += frame.write(name, at, 'utf8');
  frame[at++] = 0; // no reply-to: the socket pattern routes the answer
  at = frame.writeUInt16BE(keys.length, at);
  for (const key of keys) {
    const value = message.headers[key] as string;
    at = frame.writeUInt16BE(Buffer.byteLength(key), at);
    at += frame.write(key, at, 'utf8');
    at = frame.writeUInt32BE(Buffer.byteLength(value), at);
    at += frame.write(value, at, 'utf8');
  }
  frame.set(message.data, at);
  return frame;
}

/** Where NAME ends in a NAME SP BODY frame, or -1 when the frame has no separator. */
export function nameEnd(frame: Buffer): number {
  return frame.indexOf(SPACE);
}

export function isProbe(frame: Uint8Array): boolean {
  return frame[0] === PROBE;
}

export function isFarewell(frame: Uint8Array): boolean {
  return frame[0] === FAREWELL;
}

/**
 * The message in BODY. An envelope is decoded (BadFrameError when malformed); anything else is a
 * native peer's plain payload, given `id` (the request's, or a fresh one) and no headers.
 */
export function readBody(body: Uint8Array, subject: string, id?: string): Message {
  if (isEnvelope(body)) return decodeEnvelope(body).message;
  return { id: id ?? nextId(), subject, data: body, headers: NO_HEADERS };
}

/**
 * Reserved header of a request in the envelope: the requester's deadline (epoch ms), after which
 * its replier stops waiting for the handler and takes the next request. The plain wire cannot carry it.
 */
const DEADLINE_HEADER = 'msg-deadline';

/** BODY of a request: in the envelope, the request with its deadline beside its headers. */
export function encodeRequest(request: Message, deadline: number, wire: Wire): Uint8Array {
  if (wire === 'plain') return request.data;
  return encodeEnvelope(Kind.request, { ...request, headers: { ...request.headers, [DEADLINE_HEADER]: String(deadline) } });
}

/** The request in BODY and its requester's deadline, when it carried one (see `encodeRequest`). */
export function readRequest(body: Uint8Array, service: string): { request: Message; deadline: number | undefined } {
  const request = readBody(body, service);
  const carried = request.headers[DEADLINE_HEADER];
  if (carried === undefined) return { request, deadline: undefined };
  const { [DEADLINE_HEADER]: _, ...headers } = request.headers;
  const deadline = Number(carried);
  return { request: { ...request, headers }, deadline: Number.isFinite(deadline) ? deadline : undefined };
}

/** Whether BODY came as an envelope, so that an answer goes back in the form it was asked. */
export function wireOf(body: Uint8Array): Wire {
  return isEnvelope(body) ? 'envelope' : 'plain';
}
