import { describe, expect, it } from 'vitest';
import { Kind, decodeEnvelope, encodeEnvelope, isEnvelope, isMsgError } from '../src/index.js';

const message = {
  id: 'abc-1',
  subject: 'orders.created',
  data: Uint8Array.from([0, 1, 2, 255]),
  headers: { trace: 'ü-✓', empty: '' },
};

describe('envelope', () => {
  it('round-trips kind, id, subject, reply-to, headers and binary data', () => {
    const bytes = encodeEnvelope(Kind.request, message, 'inbox.42');
    expect(isEnvelope(bytes)).toBe(true);
    const decoded = decodeEnvelope(bytes);
    expect(decoded.kind).toBe(Kind.request);
    expect(decoded.replyTo).toBe('inbox.42');
    expect(decoded.message.id).toBe(message.id);
    expect(decoded.message.subject).toBe(message.subject);
    expect(decoded.message.headers).toEqual(message.headers);
    expect([...decoded.message.data]).toEqual([0, 1, 2, 255]);
  });

  it('does not take a plain payload for an envelope', () => {
    expect(isEnvelope(new TextEncoder().encode('hello'))).toBe(false);
    expect(isEnvelope(new Uint8Array(0))).toBe(false);
  });

  it('rejects every truncation with BAD_FRAME, never reading out of bounds', () => {
    const bytes = encodeEnvelope(Kind.publish, message);
    const headerEnd = bytes.length - message.data.length;
    for (let length = 0; length < headerEnd; length++) {
      let error: unknown;
      try {
        decodeEnvelope(bytes.subarray(0, length));
      } catch (caught) {
        error = caught;
      }
      expect(isMsgError(error, 'BAD_FRAME'), `truncated to ${length}`).toBe(true);
    }
  });

  it('rejects an unknown kind and invalid UTF-8 with BAD_FRAME', () => {
    const bytes = encodeEnvelope(Kind.publish, message);
    const badKind = bytes.slice();
    badKind[2] = 99;
    expect(() => decodeEnvelope(badKind)).toThrow(/unknown envelope kind 99/);
    const badText = bytes.slice();
    badText[4] = 0xff; // first byte of the id
    expect(() => decodeEnvelope(badText)).toThrow(/not valid UTF-8/);
  });
});
