// Every benchmark payload starts with a fixed header: phase, sequence number, the intended send
// time and the actual send time (process.hrtime.bigint(), monotonic and shared by every process on
// one host). The rest of the payload is filler up to --size.

export const HEADER_BYTES = 24;

export const enum Phase {
  Warmup = 1,
  Measured = 2,
}

export interface Stamp {
  phase: number;
  seq: number;
  intendedNs: bigint;
  sentNs: bigint;
}

/** A payload buffer to be stamped and sent again and again (the transports copy what they send). */
export function newPayload(size: number): Uint8Array {
  const data = new Uint8Array(Math.max(size, HEADER_BYTES));
  for (let i = HEADER_BYTES; i < data.length; i++) data[i] = i & 0xff;
  return data;
}

export function stamp(data: Uint8Array, phase: Phase, seq: number, intendedNs: bigint, sentNs: bigint): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, HEADER_BYTES);
  view.setUint32(0, phase, true);
  view.setUint32(4, seq, true);
  view.setBigUint64(8, intendedNs, true);
  view.setBigUint64(16, sentNs, true);
  return data;
}

export function readStamp(data: Uint8Array): Stamp | undefined {
  if (data.byteLength < HEADER_BYTES) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, HEADER_BYTES);
  return { phase: view.getUint32(0, true), seq: view.getUint32(4, true), intendedNs: view.getBigUint64(8, true), sentNs: view.getBigUint64(16, true) };
}
