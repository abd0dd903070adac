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

/** What a reply or survey handler returns: bytes, or bytes with headers. */
export type Reply = Uint8Array | { data: Uint8Array; headers?: Headers };

/** Header that marks a reply as a handler's error; its value is the handler's message. */
export const ERROR_HEADER = 'msg-error';
/** Header with the error's `code`, when the handler threw an error that had one. */
export const ERROR_CODE_HEADER = 'msg-error-code';
export const RESERVED_HEADER_PREFIX = 'msg-';

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
