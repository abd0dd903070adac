import { describe, expect, it } from 'vitest';
import { bytes, json, jsonOf, text } from '../src/index.js';

describe('codecs', () => {
  it('text round-trips UTF-8 and refuses invalid bytes', () => {
    expect(text.decode(text.encode('héllo ✓'))).toBe('héllo ✓');
    expect(() => text.decode(Uint8Array.from([0xff]))).toThrow();
  });

  it('json round-trips values', () => {
    const orders = jsonOf<{ id: number; items: string[] }>();
    expect(orders.decode(orders.encode({ id: 7, items: ['a'] }))).toEqual({ id: 7, items: ['a'] });
    expect(() => json.decode(text.encode('{'))).toThrow(SyntaxError);
  });

  it('bytes passes data through unchanged', () => {
    const data = Uint8Array.from([1, 2, 3]);
    expect(bytes.decode(bytes.encode(data))).toBe(data);
  });
});
