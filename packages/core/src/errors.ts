// One error hierarchy for every transport. Callers branch on `code` (or `isMsgError`), which keeps
// working when two copies of this package are installed side by side and `instanceof` does not.

export type ErrorCode =
  | 'TIMEOUT'
  | 'NO_RESPONDERS'
  | 'CONNECTION'
  | 'PAYLOAD_TOO_LARGE'
  | 'INVALID_NAME'
  | 'CLOSED'
  | 'ABORTED'
  | 'REMOTE'
  | 'UNSUPPORTED'
  | 'BAD_FRAME'
  | 'INVALID_ARGUMENT';

const brand = Symbol.for('@msg/core.MsgError');

export class MsgError extends Error {
  readonly code: ErrorCode;
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True for any MsgError, whichever copy of this package created it. */
export function isMsgError(error: unknown, code?: ErrorCode): error is MsgError {
  if (typeof error !== 'object' || error === null || !(brand in error)) return false;
  return code === undefined || (error as MsgError).code === code;
}

type Cause = { cause?: unknown };

export class TimeoutError extends MsgError {
  constructor(message: string, options?: Cause) {
    super('TIMEOUT', message, options);
  }
}

export class NoRespondersError extends MsgError {
  constructor(service: string, options?: Cause) {
    super('NO_RESPONDERS', `no replier is serving "${service}"; start one with reply("${service}", handler)`, options);
  }
}

export class ConnectionError extends MsgError {
  constructor(message: string, options?: Cause) {
    super('CONNECTION', message, options);
  }
}

export class PayloadTooLargeError extends MsgError {
  readonly size: number;
  readonly limit: number;
  /**
   * @param options.message replaces the default text, for a transport whose `size` counts more than
   *   the data (headers, framing) and that can say what it counted.
   */
  constructor(size: number, limit: number, options?: Cause & { message?: string }) {
    super(
      'PAYLOAD_TOO_LARGE',
      options?.message ?? `payload of ${size} bytes exceeds this transport's maximum of ${limit} bytes; split it or use a transport with a larger limit`,
      options,
    );
    this.size = size;
    this.limit = limit;
  }
}

export class InvalidNameError extends MsgError {
  readonly subject: string;
  constructor(subject: string, reason: string) {
    super('INVALID_NAME', `invalid name ${JSON.stringify(subject)}: ${reason}`);
    this.subject = subject;
  }
}

export class ClosedError extends MsgError {
  constructor(message = 'the transport is closed; create a new one to continue', options?: Cause) {
    super('CLOSED', message, options);
  }
}

export class AbortedError extends MsgError {
  constructor(message = 'the operation was aborted by its signal', options?: Cause) {
    super('ABORTED', message, options);
  }
}

/** The remote handler threw; `message` is the handler's own message. */
export class RemoteError extends MsgError {
  readonly remoteCode: string | undefined;
  constructor(message: string, remoteCode?: string) {
    super('REMOTE', message);
    this.remoteCode = remoteCode;
  }
}

export class UnsupportedError extends MsgError {
  constructor(message: string) {
    super('UNSUPPORTED', message);
  }
}

/** Bytes arrived that do not decode as a message of this transport's wire format. */
export class BadFrameError extends MsgError {
  constructor(message: string, options?: Cause) {
    super('BAD_FRAME', message, options);
  }
}

export class InvalidArgumentError extends MsgError {
  constructor(message: string, options?: Cause) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** Errors from a backend that are not ours yet become ConnectionError, keeping the original. */
export function toMsgError(error: unknown, backend: string): MsgError {
  if (isMsgError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`${backend}: ${detail}`, { cause: error });
}
