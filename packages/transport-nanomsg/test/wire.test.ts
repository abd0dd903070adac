// The frame layout, checked against the core's envelope decoder, and native plain bodies.

import { type Message, Kind, decodeEnvelope } from '@msg/core';
import { describe, expect, it } from 'vitest';
import { prefixOf } from '../src/pubsub.js';
import { encodeNamed, nameEnd, readBody } from '../src/wire.js';

const message: Message = { id: 'abc-1', subject: 'orders.new', data: Uint8Array.from([0, 1, 0xa7, 255]), headers: { trace: 'ü-✓', empty: '' } };

describe('wire', () => {
  it('a named envelope frame is "NAME " followed by a core envelope', () => {
    const frame = encodeNamed(Kind.publish, message, 'envelope');
    const end = nameEnd(frame);
    expect(frame.toString('utf8', 0, end)).toBe('orders.new');
    const envelope = decodeEnvelope(frame.subarray(end + 1));
    expect(envelope.kind).toBe(Kind.publish);
    const { data, ...rest } = envelope.message;
    expect(rest).toEqual({ id: message.id, subject: message.subject, headers: message.headers });
    expect([...data]).toEqual([...message.data]);
  });

  it('a named plain frame is "NAME payload"', () => {
    const frame = encodeNamed(Kind.publish, message, 'plain');
    expect(frame.subarray(0, 11).toString()).toBe('orders.new ');
    expect([...frame.subarray(11)]).toEqual([0, 1, 0xa7, 255]);
  });

  it('a plain body is a payload with no headers and the id it is given', () => {
    expect(readBody(Buffer.from('hello'), 'svc', 'req-1')).toEqual({ id: 'req-1', subject: 'svc', data: Buffer.from('hello'), headers: {} });
  });

  it('a truncated envelope is a BAD_FRAME', () => {
    expect(() => readBody(Uint8Array.from([0xa7, 1, 1, 9]), 'svc')).toThrow(expect.objectContaining({ code: 'BAD_FRAME' }));
  });

  it('subscription prefixes: the whole topic and a space, or the literal part of a pattern', () => {
    expect(prefixOf('orders.new')).toBe('orders.new ');
    expect(prefixOf('orders.*')).toBe('orders.');
    expect(prefixOf('orders.*.eu')).toBe('orders.');
    expect(prefixOf('>')).toBe('');
  });
});
