// A core message as an AMQP message and back: the id travels as message-id (and as correlation-id
// to match a reply to its request), headers as the AMQP headers table, data as the body, as is.

import { ERROR_HEADER, type Headers, type Message } from '@msg/core';
import type { Channel, Message as Delivery, Options } from 'amqplib';
import { toCoreError } from './errors.js';

/** Marks a bus message with its sender's member id, so that a member skips its own. */
export const SENDER_HEADER = 'msg-sender';
/** A retried copy (see pubsub.ts): the failed deliveries so far, and the topic it was published to. */
export const DELIVERIES_HEADER = 'msg-deliveries';
export const TOPIC_HEADER = 'msg-topic';

export function toBody(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function toProperties(message: Message, extra?: Options.Publish): Options.Publish {
  const headers = Object.keys(message.headers).length > 0 ? message.headers : undefined;
  return { messageId: message.id, headers, ...extra };
}

export function toMessage(delivery: Delivery, subject: string): Message {
  const { properties } = delivery;
  const headers: Headers = {};
  const raw = properties.headers;
  if (raw) {
    for (const key of Object.keys(raw)) {
      if (key === SENDER_HEADER || key === DELIVERIES_HEADER || key === TOPIC_HEADER) continue;
      const value: unknown = raw[key];
      // Other AMQP clients may send numbers, booleans or bytes; the core carries strings.
      headers[key] = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    }
  }
  const id = properties.messageId ?? properties.correlationId ?? '';
  return { id: String(id), subject, data: delivery.content, headers };
}

/**
 * Sends `reply` to where `request` asked for it (its reply-to, matched by correlation-id). When
 * the reply itself cannot be sent (headers too large), an error reply says why instead.
 */
export function sendReply(channel: Channel, request: Delivery, reply: Message): void {
  const replyTo: unknown = request.properties.replyTo;
  if (typeof replyTo !== 'string' || replyTo.length === 0) return;
  const properties = { correlationId: request.properties.correlationId as string | undefined };
  try {
    channel.publish('', replyTo, toBody(reply.data), toProperties(reply, properties));
  } catch (error) {
    const failure = toCoreError(error, 'sending the reply');
    try {
      channel.publish('', replyTo, Buffer.alloc(0), { ...properties, messageId: reply.id, headers: { [ERROR_HEADER]: failure.message } });
    } catch {
      // The channel is closed: the requester times out or sees its connection error.
    }
  }
}
