// The shapes of proto/msg.proto as proto-loader hands them over, and the mapping between the
// envelope and the core's Message (a handler's error travels in `error`, not in reserved headers).

import { ERROR_CODE_HEADER, ERROR_HEADER, type Headers, type Message } from '@msg/core';

export type Kind = 'REQUEST' | 'REPLY' | 'PUBLISH' | 'SURVEY' | 'ANSWER' | 'BUS';
export type Role = 'SUBSCRIBER' | 'REPLIER' | 'RESPONDENT' | 'MEMBER';

export interface WireError {
  message: string;
  code: string;
}

export interface Envelope {
  id: string;
  subject: string;
  headers: Record<string, string>;
  data: Uint8Array;
  kind: Kind | 'KIND_UNSPECIFIED';
  error?: WireError | null;
}

export interface Open {
  role: Role | 'ROLE_UNSPECIFIED';
  subject: string;
  queue: string;
}

export interface Failure {
  code: string;
  message: string;
}

/** One frame of the Stream call; exactly one body field is set (`body` names it on receipt). */
export interface Frame {
  envelope?: Envelope | null;
  open?: Open | null;
  close?: object | null;
  ack?: object | null;
  cancel?: object | null;
  failure?: Failure | null;
  body?: 'envelope' | 'open' | 'close' | 'ack' | 'cancel' | 'failure';
  ref?: number;
  call?: number;
}

/**
 * Bytes an envelope adds around its data at most, beyond the headers: id, subject, kind, field
 * tags and the frame around it. Names are at most 255 bytes (core), ids are short.
 */
export const ENVELOPE_OVERHEAD = 1024;

/** The size a message takes on the wire, close enough to compare with the gRPC message limit. */
export function wireSize(message: Message): number {
  let size = message.data.length + ENVELOPE_OVERHEAD;
  for (const key in message.headers) size += Buffer.byteLength(key) + Buffer.byteLength(message.headers[key] as string) + 8;
  return size;
}

export function toEnvelope(kind: Kind, message: Message): Envelope {
  const errorMessage = message.headers[ERROR_HEADER];
  if (errorMessage === undefined) {
    return { id: message.id, subject: message.subject, headers: message.headers, data: message.data, kind };
  }
  const headers: Headers = {};
  for (const key in message.headers) if (key !== ERROR_HEADER && key !== ERROR_CODE_HEADER) headers[key] = message.headers[key] as string;
  const error = { message: errorMessage, code: message.headers[ERROR_CODE_HEADER] ?? '' };
  return { id: message.id, subject: message.subject, headers, data: message.data, kind, error };
}

export function toMessage(envelope: Envelope): Message {
  const headers: Headers = { ...envelope.headers };
  if (envelope.error) {
    headers[ERROR_HEADER] = envelope.error.message;
    if (envelope.error.code !== '') headers[ERROR_CODE_HEADER] = envelope.error.code;
  }
  return { id: envelope.id, subject: envelope.subject, data: envelope.data, headers };
}
