/** String headers carried beside the payload. Keys starting with `msg-` are reserved. */
export type Headers = Record<string, string>;

/** What travels: the core moves bytes; codecs turn them into values. */
export interface Message {
  /** Unique per message, assigned by the sender; redeliveries keep it. */
  readonly id: string;
  /** The topic, service, survey topic or bus group it was sent to. */
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers;
}

/**
 * A message of a subscription with `ack: 'manual'`: settle it once, with `ack()` or `nack()`.
 * Settling again throws InvalidArgumentError; settling after the subscription ended (and gave the
 * message back) throws ClosedError. Both calls return at once: the broker hears of it in the
 * background, and an acknowledgement lost with the connection means one more delivery.
 */
export interface AckableMessage extends Message {
  /** Handled: it is not delivered again. */
  ack(): void;
  /**
   * Not handled: deliver it again, no sooner than `delay` milliseconds from now (default 0). Counts
   * as a failed delivery for `deadLetter`; `error` becomes the dead letter's `dead-letter-error`.
   * On its last allowed delivery the message goes to the dead-letter topic at once, delay or not.
   */
  nack(options?: NackOptions): void;
  /** How many times it has been delivered, this time included, where the backend counts (see capabilities.deadLetter). */
  readonly deliveries: number | undefined;
}

export interface NackOptions {
  delay?: number;
  error?: unknown;
}

/** What a reply or survey handler returns: bytes, or bytes with headers. */
export type Reply = Uint8Array | { data: Uint8Array; headers?: Headers };

/** Header that marks a reply as a handler's error; its value is the handler's message. */
export const ERROR_HEADER = 'msg-error';
/** Header with the error's `code`, when the handler threw an error that had one. */
export const ERROR_CODE_HEADER = 'msg-error-code';
export const RESERVED_HEADER_PREFIX = 'msg-';

// Headers of a dead letter (see DeadLetterOptions). Not under `msg-`: they are for the user to
// read, and a message read from a dead-letter topic can be published again as it is.
/** The subject the message was published to. */
export const DEAD_LETTER_SOURCE_HEADER = 'dead-letter-source';
/** The original message's id (the dead letter has an id of its own). */
export const DEAD_LETTER_ID_HEADER = 'dead-letter-id';
/** How many deliveries it had, as a decimal number. */
export const DEAD_LETTER_ATTEMPTS_HEADER = 'dead-letter-attempts';
/** The message of the last failure: what the handler threw, or what `nack` was given. */
export const DEAD_LETTER_ERROR_HEADER = 'dead-letter-error';

const EMPTY_HEADERS: Headers = Object.freeze({}) as Headers;
export function emptyHeaders(): Headers {
  return EMPTY_HEADERS;
}

// Ids are a random per-process prefix and a counter: unique, ordered per sender, and cheap
// enough for the hot path (a UUID per message costs more than the rest of a publish).
const idPrefix = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
let idCounter = 0;
export function nextId(): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${idPrefix}-${idCounter.toString(36)}`;
}
