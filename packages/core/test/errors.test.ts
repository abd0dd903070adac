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
