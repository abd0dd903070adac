// Every benchmark payload starts with a fixed header: phase, sequence number, the intended send
// time and the actual send time (nanoseconds of process.hrtime, monotonic and shared by every
// process on one host, as doubles: exact to the nanosecond for 104 days of uptime). The rest of the
// payload is zeros up to --size.
//
// Stamping and reading are on the hot path of every baseline, so neither allocates per message:
// payloads are carved from slabs with one DataView each, and a stamp is read into one reused record.

export const HEADER_BYTES = 24;

export const enum Phase {
  Warmup = 1,
  Measured = 2,
}

export interface Stamp {
  phase: number;
  seq: number;
  intendedNs: number;
  sentNs: number;
}

/** 1 MiB slabs: a client may keep a sent buffer until it is written, so none is ever reused. */
const SLAB_BYTES = 1 << 20;

/** Hands out fresh payloads of one size, a slab at a time, and stamps them. */
export class Payloads {
  readonly size: number;
  #slab = new Uint8Array(0);
  #view = new DataView(this.#slab.buffer);
  #at = 0;

  constructor(size: number) {
    this.size = Math.max(size, HEADER_BYTES);
  }

  /** A new payload stamped with `phase`, `seq` and both times. */
  next(phase: Phase, seq: number, intendedNs: number, sentNs: number): Uint8Array {
    if (this.#at + this.size > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(SLAB_BYTES, this.size));
      this.#view = new DataView(this.#slab.buffer);
      this.#at = 0;
    }
    const at = this.#at;
    this.#at += this.size;
    const view = this.#view;
    view.setUint32(at, phase, true);
    view.setUint32(at + 4, seq, true);
    view.setFloat64(at + 8, intendedNs, true);
    view.setFloat64(at + 16, sentNs, true);
    return this.#slab.subarray(at, at + this.size);
  }
}

const scratch = new Uint8Array(HEADER_BYTES);
const scratchView = new DataView(scratch.buffer);
const read: Stamp = { phase: 0, seq: 0, intendedNs: 0, sentNs: 0 };

/** The stamp of `data`, or undefined when it has none. The record is reused by the next call. */
export function readStamp(data: Uint8Array): Stamp | undefined {
  if (data.byteLength < HEADER_BYTES) return undefined;
  // Received bytes sit at any offset of any buffer: copy the header instead of viewing it.
  for (let i = 0; i < HEADER_BYTES; i++) scratch[i] = data[i]!;
  read.phase = scratchView.getUint32(0, true);
  read.seq = scratchView.getUint32(4, true);
  read.intendedNs = scratchView.getFloat64(8, true);
  read.sentNs = scratchView.getFloat64(16, true);
  return read;
}
