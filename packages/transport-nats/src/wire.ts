// How a core Message travels as a NATS message: the payload as is and the user's headers as NATS
// headers. Only the durable profile carries the sender's message id (in `msg-id`), so that a
// redelivery keeps it; core NATS redelivers nothing and matches replies by their reply subject, so a
// message without user headers goes with no header block at all (encoding one costs more than the rest).

import { type Headers, type Message, nextId } from '@msg/core';
import { type Msg, type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';

const ID_HEADER = 'msg-id';
/**
 * Room kept in the server's `max_payload` for headers: the message id and the user's own headers.
 * The data may take the rest, so data and headers together may not exceed `max_payload`.
 */
export const HEADER_ROOM = 4096;
/** The bus member that sent a message, so that it can skip its own. */
export const SENDER_HEADER = 'msg-sender';
/** The server's status code for "nobody is subscribed to the request's subject". */
const NO_RESPONDERS_STATUS = 503;

/** The user's headers (and `extra`) as NATS headers; undefined when there are none. */
export function toNatsHeaders(message: Message, extra?: Headers): MsgHdrs | undefined {
  let out: MsgHdrs | undefined;
  for (const key in message.headers) (out ??= natsHeaders()).set(key, message.headers[key] as string);
  for (const key in extra) (out ??= natsHeaders()).set(key, extra[key] as string);
  return out;
}

/** The durable profile's headers: the user's and the message id, which redeliveries keep. */
export function toDurableHeaders(message: Message): MsgHdrs {
  const out = natsHeaders();
  out.set(ID_HEADER, message.id);
  for (const key in message.headers) out.set(key, message.headers[key] as string);
  return out;
}

/**
 * Bytes that `headers` take in a message, which the server counts against `max_payload` with the
 * data: the `NATS/1.0` line, a `key: value` line per value, and the blank line that ends them.
 */
export function headerBytes(headers: MsgHdrs): number {
  let bytes = 0;
  for (const [key, values] of headers) for (const value of values) bytes += Buffer.byteLength(`\r\n${key}: ${value}`);
  return bytes === 0 ? 0 : Buffer.byteLength('NATS/1.0\r\n\r\n') + bytes;
}

/** A received NATS message as the core sees it; one without `msg-id` gets a fresh id. */
export function fromNats(msg: Pick<Msg, 'data' | 'headers'>, subject: string): Message {
  const received = msg.headers;
  if (received === undefined) return { id: nextId(), subject, data: msg.data, headers: {} };
  const headers: Headers = {};
  let id: string | undefined;
  for (const [key, values] of received) {
    if (key === ID_HEADER) id = values[0];
    else if (key !== SENDER_HEADER) headers[key] = values[0] ?? '';
  }
  return { id: id ?? nextId(), subject, data: msg.data, headers };
}

/** The server's own answer to a request that no subscriber took. */
export function isNoResponders(msg: Msg): boolean {
  return msg.data.length === 0 && msg.headers?.code === NO_RESPONDERS_STATUS;
}
