// How a Message travels as a Kafka record: the payload is the record's value, user headers are
// record headers, and what the patterns need (id, reply topic, deadline, sender) rides in headers
// under the reserved `msg-` prefix, which the core never lets users set.

import { type Headers, type Message, RESERVED_HEADER_PREFIX } from '@msg/core';
import type { KafkaMessage, Message as KafkaRecord } from 'kafkajs';

const ID = 'msg-id';
const SUBJECT = 'msg-subject';
const REPLY_TO = 'msg-reply-to';
const DEADLINE = 'msg-deadline';
const SENDER = 'msg-sender';

/** What rides beside the message for the pattern that sent it. */
export interface Routing {
  /** Records with one key land on one partition, in order: the publisher's id keeps its order. */
  key?: string;
  /** The topic the answer goes to (request, survey question). */
  replyTo?: string;
  /** Epoch ms after which nobody waits for the answer, so a late replier skips the work. */
  deadline?: number;
  /** The bus member that sent it, so that it skips its own messages. */
  sender?: string;
  /** Replies and answers say which service or topic they came from; the inbox topic cannot. */
  subject?: boolean;
}

export interface Received extends Routing {
  message: Message;
}

const empty = new Uint8Array(0);

export function toRecord(message: Message, routing: Routing = {}): KafkaRecord {
  const headers: Record<string, string> = { ...message.headers, [ID]: message.id };
  if (routing.subject) headers[SUBJECT] = message.subject;
  if (routing.replyTo !== undefined) headers[REPLY_TO] = routing.replyTo;
  if (routing.deadline !== undefined) headers[DEADLINE] = String(routing.deadline);
  if (routing.sender !== undefined) headers[SENDER] = routing.sender;
  return {
    key: routing.key ?? null,
    value: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
    headers,
  };
}

/** `subject` names records that carry none (everything but replies and answers). */
export function fromRecord(record: KafkaMessage, subject: string, where: string): Received {
  const headers: Headers = {};
  let id: string | undefined;
  const received: Omit<Received, 'message'> = {};
  for (const [name, raw] of Object.entries(record.headers ?? {})) {
    if (raw === undefined) continue;
    const value = (Array.isArray(raw) ? raw[raw.length - 1] : raw)?.toString() ?? '';
    if (!name.startsWith(RESERVED_HEADER_PREFIX)) {
      headers[name] = value;
      continue;
    }
    if (name === ID) id = value;
    else if (name === SUBJECT) subject = value;
    else if (name === REPLY_TO) received.replyTo = value;
    else if (name === DEADLINE) received.deadline = Number(value);
    else if (name === SENDER) received.sender = value;
    // Error replies keep their reserved headers: the core reads them.
    else headers[name] = value;
  }
  return {
    ...received,
    // A record from a plain Kafka producer has no id: its place in the log is one, stable across redelivery.
    message: { id: id ?? `${where}@${record.offset}`, subject, data: record.value ?? empty, headers },
  };
}
