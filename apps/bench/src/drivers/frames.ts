// Length-prefixed frames over a byte stream: 4-byte big-endian length, then the body.
import type { Socket } from 'node:net';

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

/**
 * Writes frames to a socket once per tick: what one turn of the event loop queues goes out in one
 * write, as a client that batches would, so that the loopback limit is the socket's, not a
 * syscall per message.
 */
export class FrameWriter {
  readonly #socket: Socket;
  #frames: Uint8Array[] = [];
  #bytes = 0;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Queues a frame (the caller must not change `data` afterwards); false when the socket wants 'drain'. */
  write(data: Uint8Array): boolean {
    if (this.#frames.length === 0) queueMicrotask(this.#flush);
    this.#frames.push(data);
    this.#bytes += 4 + data.byteLength;
    return !this.#socket.writableNeedDrain;
  }

  readonly #flush = (): void => {
    const out = Buffer.allocUnsafe(this.#bytes);
    let at = 0;
    for (const data of this.#frames) {
      out.writeUInt32BE(data.byteLength, at);
      out.set(data, at + 4);
      at += 4 + data.byteLength;
    }
    this.#frames = [];
    this.#bytes = 0;
    if (!this.#socket.destroyed) this.#socket.write(out);
  };
}
