// One result per measured point: a transport, a workload and its swept parameter, one repetition.
import type { DriverKind } from './drivers/index.js';
import type { IntervalPoint, LatencySummary } from './histogram.js';
import type { ProcessStats } from './machine.js';

export const WORKLOADS = ['pubsub', 'echo', 'stream', 'survey', 'bus', 'fanout', 'fanin', 'topics'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface Result {
  transport: string;
  kind: DriverKind;
  baselineOf?: string;
  /** For a peer (another framework over the same broker): the adapter it is compared with. */
  peerOf?: string;
  /** The delivery semantics of the profile that produced this result. */
  semantics?: string;
  workload: Workload;
  repetition: number;
  /** What else sets this point apart: the payload size in a size sweep, the offered load. */
  variant?: string;
  /** echo at a fraction of the maximum: that fraction (0..1); 1 is the closed-loop maximum. */
  load?: number;
  /** The swept parameter of this point: clients, window, respondents or members. */
  point: { name: string; value: number } | undefined;
  status: 'ok' | 'failed' | 'skipped';
  error?: string;
  size: number;
  rate?: number;
  sent?: number;
  received?: number;
  lost?: number;
  duplicated?: number;
  reordered?: number;
  /** Requests that failed (timeouts, errors) or surveys that missed a respondent. */
  failed?: number;
  /** Messages (or requests, surveys) per second at the sender and at the receiver. */
  senderRate?: number;
  receiverRate?: number;
  senderMBps?: number;
  receiverMBps?: number;
  /** Latency from the intended send time (corrected for coordinated omission), in µs. */
  latency?: LatencySummary;
  /** Latency from the actual send time (service time), in µs. */
  uncorrected?: LatencySummary;
  /** Actual minus intended send time, in µs. */
  sendDelay?: LatencySummary;
  /** Encoded HDR histograms (compressed base64), to merge or to print as spectra. */
  histograms: { corrected?: string; uncorrected?: string; sendDelay?: string };
  intervals?: IntervalPoint[];
  /** pubsub: latency by consecutive slice of the sequence (latency against message count). */
  slices?: { upTo: number; count: number; p50: number; p99: number; max: number }[];
  /** stream: replies that resolved out of send order. */
  outOfOrder?: number;
  processes: ProcessStats[];
  /** echo max-sustainable search: each trial's offered rate and whether it kept up. */
  trials?: { rate: number; kept: boolean }[];
}

/** The variant of a run with no per-message instrumentation (`--plain`). */
export const PLAIN = 'plain';
/** The variant of a pubsub or echo run on transports instrumented with @msg/otel (`--otel`). */
export const OTEL = 'otel';
/** The variant of a pubsub run whose publisher awaits each publish (`--await-publish`). */
export const AWAITED = 'awaited';

export function label(r: { workload: string; point?: { name: string; value: number } | undefined; variant?: string }): string {
  return (r.point ? `${r.workload} ${r.point.name}=${r.point.value}` : r.workload) + (r.variant ? ` ${r.variant}` : '');
}
