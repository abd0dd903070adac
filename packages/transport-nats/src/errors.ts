// The client's errors as core errors, the original kept as `cause`. Messages name the server and
// the operation, never a credential.

import {
  ConnectionError,
  InvalidArgumentError,
  type MsgError,
  NoRespondersError,
  PayloadTooLargeError,
  TimeoutError,
  isMsgError,
} from '@msg/core';
import { type MsgHdrs, errors } from '@nats-io/transport-node';
import { HEADER_ROOM, headerBytes } from './wire.js';

/** What was being done, for the message: `request to "orders"`, `publish to "orders.new"`. */
export interface Attempt {
  what: string;
  subject?: string;
  /** Bytes of data sent. */
  size?: number;
  /** The headers sent with the data; the server counts them against its `max_payload` too. */
  headers?: MsgHdrs;
  /** The declared maximum of data: the server's `max_payload` less HEADER_ROOM. */
  maxPayload?: number;
}

export function toCoreError(error: unknown, attempt: Attempt): MsgError {
  if (isMsgError(error)) return error;
  const cause = { cause: error };
  if (error instanceof errors.RequestError && error.isNoResponders()) {
    return new NoRespondersError(attempt.subject ?? '?', cause);
  }
  if (error instanceof errors.NoRespondersError) return new NoRespondersError(attempt.subject ?? error.subject, cause);
  if (error instanceof errors.TimeoutError || (error instanceof errors.RequestError && error.cause instanceof errors.TimeoutError)) return new TimeoutError(`nats: ${attempt.what} timed out`, cause);
  if (error instanceof errors.InvalidArgumentError && /max_payload/.test(error.message)) return tooLarge(attempt, error);
  if (error instanceof errors.InvalidArgumentError || error instanceof errors.InvalidSubjectError) {
    return new InvalidArgumentError(`nats: ${attempt.what}: ${error.message}`);
  }
  if (error instanceof errors.AuthorizationError) {
    return new ConnectionError(`nats: ${attempt.what} was refused by the server: check the credentials (${error.message})`, cause);
  }
  if (error instanceof errors.PermissionViolationError) {
    return new ConnectionError(`nats: ${attempt.what} is not permitted for this user (${error.operation} "${error.subject}")`, cause);
  }
  if (error instanceof errors.ClosedConnectionError || error instanceof errors.DrainingConnectionError) {
    return new ConnectionError(`nats: ${attempt.what} failed: the connection to the server is closed`, cause);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`nats: ${attempt.what} failed: ${detail}`, cause);
}

/**
 * The core lets data up to the declared maximum through; the client refuses a message whose data
 * and headers together exceed the server's `max_payload`, which is HEADER_ROOM more. Say both parts.
 */
function tooLarge(attempt: Attempt, cause: unknown): PayloadTooLargeError {
  const data = attempt.size ?? 0;
  const headers = attempt.headers ? headerBytes(attempt.headers) : 0;
  const limit = (attempt.maxPayload ?? 0) + HEADER_ROOM;
  const message =
    `nats: ${attempt.what}: data of ${data} bytes plus headers of ${headers} bytes make ${data + headers} bytes, ` +
    `over the server's max_payload of ${limit} bytes (data up to ${attempt.maxPayload ?? 0} bytes leaves ${HEADER_ROOM} bytes for headers); ` +
    'shorten the headers or the data';
  return new PayloadTooLargeError(data + headers, limit, { cause, message });
}
