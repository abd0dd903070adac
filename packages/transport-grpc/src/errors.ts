// gRPC statuses and route failures translated into the core's errors, keeping the original as cause.

import { type ServiceError, status } from '@grpc/grpc-js';
import {
  ConnectionError,
  MsgError,
  NoRespondersError,
  PayloadTooLargeError,
  TimeoutError,
  isMsgError,
  toMsgError,
} from '@msg/core';
import type { Failure } from './wire.js';

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number';
}

/**
 * A grpc-js error as a core error. `subject` names the service or topic for the message; `size`
 * and `limit` are the frame's size and the gRPC message limit, for RESOURCE_EXHAUSTED.
 */
export function fromGrpcError(error: unknown, subject: string, size: number, limit: number): MsgError {
  if (isMsgError(error) || !isServiceError(error)) return toMsgError(error, 'grpc');
  switch (error.code) {
    case status.UNAVAILABLE:
      return new ConnectionError(`grpc: the host is unreachable (${error.details})`, { cause: error });
    case status.DEADLINE_EXCEEDED:
      return new TimeoutError(`grpc: no reply from "${subject}" before the deadline`, { cause: error });
    case status.NOT_FOUND:
      return new NoRespondersError(subject, { cause: error });
    case status.RESOURCE_EXHAUSTED:
      return new PayloadTooLargeError(size, limit, { cause: error });
    default:
      return new ConnectionError(`grpc: ${error.details || error.message}`, { cause: error });
  }
}

/** The Failure frame the host sends when it cannot route a call. */
export function toFailure(error: unknown): Failure {
  const msgError = toMsgError(error, 'grpc');
  return { code: msgError.code, message: msgError.message };
}

/** The requester's side of a Failure frame. */
export function fromFailure(failure: Failure, subject: string): MsgError {
  switch (failure.code) {
    case 'NO_RESPONDERS':
      return new NoRespondersError(subject);
    case 'TIMEOUT':
      return new TimeoutError(failure.message);
    default:
      return new ConnectionError(failure.message);
  }
}

/** The status a unary Request answers with when the host cannot route it. */
export function toStatus(error: unknown): { code: status; details: string } {
  const msgError = toMsgError(error, 'grpc');
  const code =
    msgError.code === 'NO_RESPONDERS' ? status.NOT_FOUND
    : msgError.code === 'TIMEOUT' ? status.DEADLINE_EXCEEDED
    : msgError.code === 'ABORTED' ? status.CANCELLED
    : msgError.code === 'PAYLOAD_TOO_LARGE' ? status.RESOURCE_EXHAUSTED
    : msgError.code === 'INVALID_NAME' || msgError.code === 'INVALID_ARGUMENT' ? status.INVALID_ARGUMENT
    : status.UNAVAILABLE;
  return { code, details: msgError.message };
}
