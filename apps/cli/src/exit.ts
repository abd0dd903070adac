// Exit codes are the CLI's contract with shell scripts: 0 success, 2 usage, 3 timeout or no
// responders, 4 connection error. Every failure is one line on stderr that says what to do.
import { isMsgError } from '@msg/core';

export const EXIT = { ok: 0, failure: 1, usage: 2, timeout: 3, connection: 4 } as const;

export class UsageError extends Error {}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (isMsgError(error, 'TIMEOUT') || isMsgError(error, 'NO_RESPONDERS')) return EXIT.timeout;
  if (isMsgError(error, 'CONNECTION')) return EXIT.connection;
  if (isMsgError(error, 'INVALID_NAME') || isMsgError(error, 'INVALID_ARGUMENT') || isMsgError(error, 'UNSUPPORTED')) {
    return EXIT.usage;
  }
  return EXIT.failure;
}

export function fail(error: unknown): never {
  const text = error instanceof Error ? error.message : String(error);
  const code = isMsgError(error) ? `${error.code}: ` : '';
  process.stderr.write(`msg: ${code}${text.split('\n')[0]}\n`);
  process.exit(exitCodeOf(error));
}
