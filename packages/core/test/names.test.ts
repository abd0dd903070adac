import { describe, expect, it } from 'vitest';
import { InvalidNameError, MAX_NAME_LENGTH, hasWildcard, isMsgError, matchSubject, validateName, validatePattern } from '../src/index.js';

function reason(run: () => void): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidNameError);
    expect(isMsgError(error, 'INVALID_NAME')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected InvalidNameError');
}

describe('names', () => {
  it('accepts dot-separated tokens of letters, digits, "-" and "_"', () => {
    for (const name of ['orders', 'orders.created', 'a-b_c.D9', 'x'.repeat(MAX_NAME_LENGTH)]) {
      expect(() => validateName(name)).not.toThrow();
    }
  });

  it('says which character is wrong and where', () => {
    expect(reason(() => validateName('orders created'))).toMatch(/character U\+0020 at position 6/);
    expect(reason(() => validateName('ünï'))).toMatch(/"ü" at position 0/);
    expect(reason(() => validateName('a/b'))).toMatch(/"\/" at position 1/);
  });

  it('rejects empty names and empty tokens', () => {
    expect(reason(() => validateName(''))).toMatch(/must not be empty/);
    expect(reason(() => validateName('a..b'))).toMatch(/empty token at position 2/);
    expect(reason(() => validateName('.a'))).toMatch(/empty token at position 0/);
    expect(reason(() => validateName('a.'))).toMatch(/empty token/);
  });

  it('rejects names over the maximum length', () => {
    expect(reason(() => validateName('x'.repeat(MAX_NAME_LENGTH + 1)))).toMatch(/at most 255 characters/);
  });

  it('allows wildcards only in patterns, as whole tokens, and ">" only last', () => {
    expect(reason(() => validateName('orders.*'))).toMatch(/only allowed in subscribe patterns/);
    expect(() => validatePattern('orders.*')).not.toThrow();
    expect(() => validatePattern('orders.>')).not.toThrow();
    expect(() => validatePattern('*.created')).not.toThrow();
    expect(reason(() => validatePattern('orders.>.x'))).toMatch(/must be the last token/);
    expect(reason(() => validatePattern('ord*'))).toMatch(/a wildcard must be a whole token/);
  });

  it('matches "*" to exactly one token and ">" to one or more', () => {
    expect(matchSubject('orders.*', 'orders.created')).toBe(true);
    expect(matchSubject('orders.*', 'orders')).toBe(false);
    expect(matchSubject('orders.*', 'orders.created.eu')).toBe(false);
    expect(matchSubject('orders.>', 'orders.created.eu')).toBe(true);
    expect(matchSubject('orders.>', 'orders')).toBe(false);
    expect(matchSubject('*.created', 'orders.created')).toBe(true);
    expect(matchSubject('orders', 'orders2')).toBe(false);
    expect(hasWildcard('orders.created')).toBe(false);
    expect(hasWildcard('orders.>')).toBe(true);
  });
});
