// Turns amqplib's errors into the core's, the original kept as `cause`, and keeps secrets out of
// both: some amqplib and socket errors quote what they were given, credentials included.

import { ConnectionError, InvalidArgumentError, type MsgError, PayloadTooLargeError, isMsgError } from '@msg/core';

/** Replaces every secret in the error's message and stack, in place, and returns it. */
export function scrub<T>(error: T, secrets: readonly string[]): T {
  if (!(error instanceof Error)) return error;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    error.message = error.message.replaceAll(secret, '***');
    if (error.stack) error.stack = error.stack.replaceAll(secret, '***');
  }
  return error;
}

function withCause<T extends Error>(error: T, cause: unknown): T {
  Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  return error;
}

const tooLarge = /message size (\d+) is larger than configured max size (\d+)/;

/**
 * The core error for an amqplib error raised while `doing` something. A channel closed by the
 * broker is described by the broker's own reason (NOT_FOUND, PRECONDITION_FAILED, ...).
 */
export function toCoreError(error: unknown, doing: string): MsgError {
  if (isMsgError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof RangeError && /field table/.test(message)) {
    return withCause(new InvalidArgumentError(`${doing}: the headers encode to more than 64 KiB, the most amqplib sends in one AMQP header frame`), error);
  }
  const size = tooLarge.exec(message);
  if (size) return new PayloadTooLargeError(Number(size[1]), Number(size[2]), { cause: error });
  if (code === 406) {
    return withCause(new InvalidArgumentError(`${doing}: RabbitMQ refused it as inconsistent with what exists: ${message}`), error);
  }
  return new ConnectionError(`${doing}: ${message}`, { cause: error });
}
