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
import { errors } from '@nats-io/transport-node';

/** What was being done, for the message: `request to "orders"`, `publish to "orders.new"`. */
export interface Attempt {
  what: string;
  subject?: string;
  size?: number;
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
  if (error instanceof errors.InvalidArgumentError && /max_payload/.test(error.message)) {
    return new PayloadTooLargeError(attempt.size ?? 0, attempt.maxPayload ?? 0, cause);
  }
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
