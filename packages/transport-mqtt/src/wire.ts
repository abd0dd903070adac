// How a core Message travels as an MQTT 5 PUBLISH: names with `/` where the core has `.`, the data as
// the payload, headers as user properties, a request's id as correlation data. The at-least-once
// profile also carries the message id (user property `msg-id`), so that a redelivery keeps it.

import { type Headers, type Message, PayloadTooLargeError, nextId } from '@msg/core';
import type { IPublishPacket } from 'mqtt';

export const ID_PROPERTY = 'msg-id';
/** The bus member that sent a message, so that it can skip its own. */
export const SENDER_PROPERTY = 'msg-sender';
/**
 * Room kept in the broker's packet limit for the topic, the properties and the MQTT framing. The
 * data may take the rest; data and the rest together may not exceed the limit.
 */
export const HEADER_ROOM = 4096;
/** MQTT's own limit: a Remaining Length of at most 268,435,455, plus 5 bytes of fixed header. */
export const PROTOCOL_MAX_PACKET = 268_435_455 + 5;

/** `orders.created` → `orders/created`. */
export function toTopic(name: string): string {
  return name.replaceAll('.', '/');
}

/** A core pattern as an MQTT filter: `orders.*` → `orders/+`, `orders.>` → `orders/#`. */
export function toFilter(pattern: string): string {
  return pattern
    .split('.')
    .map((token) => (token === '*' ? '+' : token === '>' ? '#' : token))
    .join('/');
}

/** `orders/created` → `orders.created`. */
export function fromTopic(topic: string): string {
  return topic.replaceAll('/', '.');
}

export type Properties = NonNullable<IPublishPacket['properties']>;

/** The user's headers (and `extra`) as user properties; undefined when there are none. */
export function toUserProperties(headers: Headers, extra?: Headers): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const key in headers) (out ??= {})[key] = headers[key] as string;
  for (const key in extra) (out ??= {})[key] = extra[key] as string;
  return out;
}

/**
 * A received PUBLISH as the core sees it. The id is, in order: `msg-id`, the correlation data (a
 * request or reply), or a fresh one (a plain at-most-once message, or a native peer's).
 */
export function fromMqtt(packet: IPublishPacket, subject: string): Message {
  const properties = packet.properties;
  const data = packet.payload as Buffer;
  const received = properties?.userProperties;
  let id: string | undefined;
  const headers: Headers = {};
  if (received) {
    for (const key in received) {
      const value = received[key];
      const first = Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
      if (key === ID_PROPERTY) id = first;
      else if (key !== SENDER_PROPERTY) headers[key] = first;
    }
  }
  if (id === undefined && properties?.correlationData) id = properties.correlationData.toString();
  return { id: id ?? nextId(), subject, data, headers };
}

function varintBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Bytes of the PUBLISH packet that carries `data` to `topic` with `properties`, as MQTT 5 frames it. */
export function packetSize(topic: string, data: Uint8Array, qos: 0 | 1, properties: Properties): number {
  let props = 0;
  if (properties.responseTopic !== undefined) props += 3 + Buffer.byteLength(properties.responseTopic);
  if (properties.correlationData !== undefined) props += 3 + properties.correlationData.length;
  const user = properties.userProperties;
  for (const key in user) {
    const value = user[key];
    for (const v of Array.isArray(value) ? value : [value]) props += 5 + Buffer.byteLength(key) + Buffer.byteLength(String(v));
  }
  const remaining = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + varintBytes(props) + props + data.length;
  return 1 + varintBytes(remaining) + remaining;
}

/**
 * Refuses a PUBLISH that the broker would refuse (and drop the connection for): the core let the
 * data through, but data, topic and properties together exceed the broker's Maximum Packet Size.
 */
export function checkPacket(what: string, topic: string, data: Uint8Array, qos: 0 | 1, properties: Properties, packetLimit: number): void {
  const size = packetSize(topic, data, qos, properties);
  if (size <= packetLimit) return;
  const rest = size - data.length;
  throw new PayloadTooLargeError(size, packetLimit, {
    message:
      `mqtt: ${what}: data of ${data.length} bytes plus topic, properties and framing of ${rest} bytes make a packet of ${size} bytes, ` +
      `over the broker's maximum packet size of ${packetLimit} bytes (data up to ${packetLimit - HEADER_ROOM} bytes leaves ${HEADER_ROOM} bytes for the rest); ` +
      'shorten the headers or the data',
  });
}

/** A Buffer over the same bytes, for the client's API; no copy. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
