import { describe, expect, it } from 'vitest';
import { ConnectionError, MsgError, PayloadTooLargeError, TimeoutError, isMsgError, toMsgError } from '../src/index.js';

describe('errors', () => {
  it('every error has a stable code and is recognised by its brand', () => {
    const error = new PayloadTooLargeError(11, 10);
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error).toBeInstanceOf(MsgError);
    expect(isMsgError(error)).toBe(true);
    expect(isMsgError(error, 'TIMEOUT')).toBe(false);
    expect(error.message).toMatch(/11 bytes exceeds .* 10 bytes/);
    expect(isMsgError(new Error('plain'))).toBe(false);
  });

  it('PayloadTooLargeError takes a message that says what its size counted, and keeps the figures', () => {
    const cause = new Error('max_payload size exceeded');
    const error = new PayloadTooLargeError(12, 10, { cause, message: 'data of 8 bytes plus headers of 4 bytes exceed 10 bytes' });
    expect(error.message).toBe('data of 8 bytes plus headers of 4 bytes exceed 10 bytes');
    expect({ code: error.code, size: error.size, limit: error.limit, cause: error.cause }).toEqual({ code: 'PAYLOAD_TOO_LARGE', size: 12, limit: 10, cause });
  });

  it('the brand survives a second copy of the package (a plain object with the shared symbol)', () => {
    const foreign = Object.assign(new Error('x'), { code: 'TIMEOUT', [Symbol.for('@msg/core.MsgError')]: true });
    expect(isMsgError(foreign, 'TIMEOUT')).toBe(true);
  });

  it('toMsgError keeps ours and wraps others as CONNECTION with the cause', () => {
    const ours = new TimeoutError('late');
    expect(toMsgError(ours, 'x')).toBe(ours);
    const cause = new Error('ECONNREFUSED');
    const wrapped = toMsgError(cause, 'nats');
    expect(wrapped).toBeInstanceOf(ConnectionError);
    expect(wrapped.message).toBe('nats: ECONNREFUSED');
    expect(wrapped.cause).toBe(cause);
  });
});
