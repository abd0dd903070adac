// Length-prefixed frames over a byte stream: 4-byte big-endian length, then the body.

export function frame(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + data.byteLength);
  out.writeUInt32BE(data.byteLength, 0);
  out.set(data, 4);
  return out;
}

/** Cuts a stream of chunks into frames, copying only when a frame spans chunks. */
export class FrameReader {
  #pending: Buffer | undefined;
  readonly #onFrame: (body: Buffer) => void;

  constructor(onFrame: (body: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    let at = 0;
    while (buf.length - at >= 4) {
      const length = buf.readUInt32BE(at);
      if (buf.length - at - 4 < length) break;
      this.#onFrame(buf.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    if (at < buf.length) this.#pending = at === 0 ? buf : buf.subarray(at);
  }
}
