// Subject names and the one wildcard syntax every adapter maps to its backend.
// A name is dot-separated tokens of [A-Za-z0-9_-]; a pattern may also use `*` (exactly one token)
// and a final `>` (one or more tokens), as in NATS, which most backends can express.

import { InvalidNameError } from './errors.js';

export const MAX_NAME_LENGTH = 255;

function isTokenChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) || // 0-9
    (code >= 65 && code <= 90) || // A-Z
    (code >= 97 && code <= 122) || // a-z
    code === 45 || // -
    code === 95 // _
  );
}

function describe(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code < 33 || code === 127 ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : JSON.stringify(char);
}

function check(name: string, allowWildcards: boolean): void {
  if (typeof name !== 'string') throw new InvalidNameError(String(name), 'a name must be a string');
  if (name.length === 0) throw new InvalidNameError(name, 'a name must not be empty');
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidNameError(name, `a name has at most ${MAX_NAME_LENGTH} characters, this one has ${name.length}`);
  }
  let tokenStart = 0;
  for (let i = 0; i <= name.length; i++) {
    const code = i < name.length ? name.charCodeAt(i) : 46;
    if (code === 46) {
      const token = name.slice(tokenStart, i);
      if (token.length === 0) {
        throw new InvalidNameError(name, `empty token at position ${i}: dots separate non-empty tokens`);
      }
      if (token === '*' || token === '>') {
        if (!allowWildcards) {
          throw new InvalidNameError(name, `wildcard ${JSON.stringify(token)} at position ${tokenStart} is only allowed in subscribe patterns`);
        }
        if (token === '>' && i !== name.length) {
          throw new InvalidNameError(name, `">" at position ${tokenStart} must be the last token`);
        }
      } else {
        for (let j = tokenStart; j < i; j++) {
          if (!isTokenChar(name.charCodeAt(j))) {
            const char = String.fromCodePoint(name.codePointAt(j) ?? 0);
            const why = char === '*' || char === '>' ? 'a wildcard must be a whole token' : 'allowed are letters, digits, "-", "_" and "." between tokens';
            throw new InvalidNameError(name, `character ${describe(char)} at position ${j} is not allowed: ${why}`);
          }
        }
      }
      tokenStart = i + 1;
    }
  }
}

// Names already found valid: a hot path sends to the same few subjects again and again, and a Set
// look-up is cheaper than the scan. Bounded, so that a stream of distinct names cannot grow it.
const MAX_REMEMBERED = 10_000;
const validNames = new Set<string>();
const validPatterns = new Set<string>();

function remember(valid: Set<string>, name: string): void {
  if (valid.size >= MAX_REMEMBERED) valid.clear();
  valid.add(name);
}

/** Throws InvalidNameError unless `name` is a concrete subject (no wildcards). */
export function validateName(name: string): void {
  if (validNames.has(name)) return;
  check(name, false);
  remember(validNames, name);
}

/** Throws InvalidNameError unless `pattern` is a subject or a wildcard pattern. */
export function validatePattern(pattern: string): void {
  if (validPatterns.has(pattern) || validNames.has(pattern)) return;
  check(pattern, true);
  remember(validPatterns, pattern);
}

/** For a validated pattern: `*` can only be a whole token and `>` only the last one. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.endsWith('>');
}

/** Does a concrete subject match a (validated) pattern? */
export function matchSubject(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  if (!hasWildcard(pattern)) return false;
  const want = pattern.split('.');
  const got = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    const token = want[i];
    if (token === '>') return got.length > i;
    if (i >= got.length) return false;
    if (token !== '*' && token !== got[i]) return false;
  }
  return want.length === got.length;
}
