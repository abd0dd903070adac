// Codecs layer values on top of the bytes the core moves.

export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export const bytes: Codec<Uint8Array> = {
  encode: (value) => value,
  decode: (value) => value,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export const text: Codec<string> = {
  encode: (value) => encoder.encode(value),
  decode: (value) => decoder.decode(value),
};

export const json: Codec<unknown> = {
  encode: (value) => encoder.encode(JSON.stringify(value)),
  decode: (value) => JSON.parse(decoder.decode(value)) as unknown,
};

/** A JSON codec typed to `T`; it does not validate the shape it decodes. */
export function jsonOf<T>(): Codec<T> {
  return json as Codec<T>;
}
