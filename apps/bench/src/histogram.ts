// Latency histograms: microsecond resolution, encodable so that processes send them to the parent,
// which merges them. Percentiles are only ever read from a (merged) histogram, never averaged.
import { type Histogram, build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';

/** One hour in microseconds; autoResize lets a pathological run go past it rather than throw. */
const HIGHEST_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Records a duration given in nanoseconds, as microseconds. Sub-microsecond readings stay (as 0). */
export function recordNs(histogram: Histogram, ns: number): void {
  const us = ns / 1000;
  histogram.recordValue(us < 0 ? 0 : Math.round(us));
}

export function encode(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

export function decode(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, 32, false);
}

/** Adds every encoded histogram into one. */
export function merge(encoded: readonly string[]): Histogram {
  const total = newHistogram();
  for (const e of encoded) {
    const h = decode(e);
    total.add(h);
    h.destroy();
  }
  return total;
}

/** Percentiles in microseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 };
  return {
    count: h.totalCount,
    mean: Math.round(h.mean * 10) / 10,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    p9999: h.getValueAtPercentile(99.99),
    max: h.maxValue,
  };
}

/** The full percentile spectrum in HdrHistogram's `.hgrm` text form, values in microseconds. */
export function spectrum(encoded: string): string {
  const h = decode(encoded);
  const text = h.outputPercentileDistribution(5, 1);
  h.destroy();
  return text;
}

/** Samples kept per chunk of a SampleLog. */
const CHUNK = 1 << 16;

/**
 * Latencies as they are measured, kept raw: recording one is two stores into typed arrays, so the
 * hot path of a baseline pays almost nothing for it. Histograms are built from the log once the
 * measured phase is over.
 */
class SampleLog {
  readonly #values: Float64Array[] = [];
  readonly #times: Float64Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  add(valueNs: number, atNs: number): void {
    const at = this.#length & (CHUNK - 1);
    if (at === 0) {
      this.#values.push(new Float64Array(CHUNK));
      this.#times.push(new Float64Array(CHUNK));
    }
    const chunk = this.#length >>> 16;
    this.#values[chunk]![at] = valueNs;
    this.#times[chunk]![at] = atNs;
    this.#length++;
  }

  forEach(visit: (valueNs: number, atNs: number) => void): void {
    for (let i = 0; i < this.#length; i++) visit(this.#values[i >>> 16]![i & (CHUNK - 1)]!, this.#times[i >>> 16]![i & (CHUNK - 1)]!);
  }
}

/**
 * A latency histogram that also has one interval histogram per second since `epochNs`, so that a
 * run's latency and rate can be shown as a time series. Recording only logs the sample; the
 * histograms are built when first read, after the measured phase.
 */
export class IntervalRecorder {
  readonly #log = new SampleLog();
  readonly #epochNs: number;
  #total: Histogram | undefined;
  #intervals: Histogram[] = [];

  constructor(epochNs: number) {
    this.#epochNs = epochNs;
  }

  record(valueNs: number, atNs: number): void {
    this.#total = undefined;
    this.#log.add(valueNs, atNs);
  }

  get total(): Histogram {
    if (!this.#total) this.#build();
    return this.#total!;
  }

  #build(): void {
    const total = newHistogram();
    const intervals: Histogram[] = [];
    this.#log.forEach((valueNs, atNs) => {
      recordNs(total, valueNs);
      const second = atNs > this.#epochNs ? Math.floor((atNs - this.#epochNs) / 1e9) : 0;
      recordNs((intervals[second] ??= newHistogram()), valueNs);
    });
    this.#total = total;
    this.#intervals = intervals;
  }

  /** Encoded interval histograms by second; a second with no sample is an empty string. */
  encodeIntervals(): string[] {
    if (!this.#total) this.#build();
    return Array.from(this.#intervals, (h) => (h ? encode(h) : ''));
  }
}

export interface IntervalPoint {
  second: number;
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Merges per-second interval histograms from several recorders, second by second. */
export function mergeIntervals(perRecorder: readonly (readonly string[])[]): IntervalPoint[] {
  const seconds = Math.max(0, ...perRecorder.map((r) => r.length));
  const points: IntervalPoint[] = [];
  for (let s = 0; s < seconds; s++) {
    const h = merge(perRecorder.map((r) => r[s] ?? '').filter((e) => e !== ''));
    points.push({ second: s, count: h.totalCount, p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), max: h.maxValue });
    h.destroy();
  }
  return points;
}
