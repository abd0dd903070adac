// kafkajs errors as core errors, the original kept as `cause`.

import { ConnectionError, type MsgError, PayloadTooLargeError, isMsgError } from '@msg/core';

export function toKafkaError(error: unknown, what: string, maxPayload: number, size = 0): MsgError {
  if (isMsgError(error)) return error;
  const type = (error as { type?: unknown })?.type;
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
    return new PayloadTooLargeError(size, maxPayload, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`kafka: ${what} failed: ${detail}`, { cause: error });
}
