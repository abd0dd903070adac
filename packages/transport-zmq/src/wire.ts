// The frames on the wire. Payloads travel as their own frame, untouched, so a plain libzmq peer reads
// them as is; what msg adds (id, headers, reply address) rides in one optional meta frame after them,
// encoded as the core's binary envelope with an empty data field. Where the pattern needs none of
// it (a publish or a reply without headers) there is no meta frame: the receiver makes a fresh id.
// A request's id goes before the delimiter, as a REQ envelope does, so any REP-style peer echoes it.

import { BadFrameError, Kind, type Headers, type Message, decodeEnvelope, encodeEnvelope, nextId } from '@msg/core';

/** The empty frame that separates a ROUTER's routing id from the body, as REQ and REP expect. */
export const DELIMITER = Buffer.alloc(0);

const NO_DATA = new Uint8Array(0);
const NO_HEADERS: Headers = Object.freeze({}) as Headers;

// Control topics start with "~", which no msg name may contain, so they never collide with a user
// topic; a native subscriber that subscribes to everything sees them and can skip them.
export const SURVEY_PREFIX = '~survey:';
export const BUS_PREFIX = '~bus:';
export const ACK_PREFIX = '~ack:';
/** `[BYE, endpoint]`: the last frame a closing publisher sends; see Subscriptions. */
export const BYE = '~bye';

/** `[data]`, and the meta frame after it only when the message has headers. */
export function body(kind: Kind, message: Message): Frame[] {
  for (const _key in message.headers) return [message.data, encodeMeta(kind, message)];
  return [message.data];
}

/** A request id as its envelope frame: ids are ASCII, so latin1 is exact and cheapest. */
export function idFrame(id: string): Buffer {
  return Buffer.from(id, 'latin1');
}

export function idOf(frame: Uint8Array): string {
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('latin1');
}

export type Frame = string | Uint8Array;

export function encodeMeta(kind: Kind, message: Message, replyTo = ''): Uint8Array {
  return encodeEnvelope(kind, { id: message.id, subject: message.subject, headers: message.headers, data: NO_DATA }, replyTo);
}

export interface Meta {
  id: string;
  headers: Headers;
  replyTo: string;
}

/**
 * Reads a meta frame. A native peer sends none: the message gets a fresh id and no headers.
 * Throws BadFrameError when a frame is there but is not ours.
 */
export function decodeMeta(frame: Uint8Array | undefined): Meta {
  if (frame === undefined) return { id: nextId(), headers: NO_HEADERS, replyTo: '' };
  const { message, replyTo } = decodeEnvelope(frame);
  if (message.data.length !== 0) throw new BadFrameError('a meta frame carries no data');
  return { id: message.id, headers: message.headers, replyTo };
}

/** A meta frame's content, or undefined when the frame is not ours. */
export function readMeta(frame: Uint8Array): Meta | undefined {
  try {
    return decodeMeta(frame);
  } catch {
    return undefined;
  }
}

/** The message that a payload frame and its optional meta frame stand for; undefined when malformed. */
export function readMessage(subject: string, payload: Uint8Array | undefined, meta: Uint8Array | undefined): Message | undefined {
  if (payload === undefined) return undefined;
  try {
    const { id, headers } = decodeMeta(meta);
    return { id, subject, data: payload, headers };
  } catch {
    return undefined;
  }
}

/** As readMessage, with the reply address a survey question or bus message carries. */
export function readWithReplyTo(
  subject: string,
  payload: Uint8Array | undefined,
  meta: Uint8Array | undefined,
): { message: Message; replyTo: string } | undefined {
  if (payload === undefined) return undefined;
  try {
    const { id, headers, replyTo } = decodeMeta(meta);
    return { message: { id, subject, data: payload, headers }, replyTo };
  } catch {
    return undefined;
  }
}

export { Kind };
