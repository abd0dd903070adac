// pubsub, worker side: a publisher that stamps each message with its sequence number and send time,
// and a subscriber that measures latency and counts lost, duplicated and reordered messages.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../protocol.js';
import type { RoleContext } from '../role.js';
import { IntervalRecorder, encode, newHistogram, recordNs } from '../histogram.js';
import { HEADER_BYTES, Payloads, Phase, readStamp } from '../payload.js';
import { Window, now, openLoop } from '../pace.js';

/** Latency is also kept for this many consecutive slices of the sequence (latency against count). */
const SLICES = 20;

export async function subscriber(ctx: RoleContext, job: Extract<Job, { role: 'sub' }>): Promise<Record<string, unknown>> {
  const link = await ctx.open(job.driver, 'bind', undefined, job);
  const n = job.messages;
  const seen = new Uint8Array(n);
  let received = 0;
  let duplicated = 0;
  let reordered = 0;
  let foreign = 0;
  const publishers = job.publishers ?? 1;
  const perPublisher = Math.ceil(n / publishers);
  // Order is per publisher: the highest sequence number seen from each.
  const maxSeq = new Array<number>(publishers).fill(-1);
  const warmFrom = new Set<number>();
  let firstNs = 0;
  let lastNs = 0;
  let lastAnyNs = 0;
  let warm = false;
  let measuring: { corrected: IntervalRecorder; uncorrected: IntervalRecorder } | undefined = undefined;
  const latencyBySeq = new Float64Array(job.plain ? 0 : n);

  const onWarmup = (seq: number) => {
    // A warm-up message's sequence number is its publisher's index.
    warmFrom.add(seq);
    if (!warm && warmFrom.size >= publishers) {
      warm = true;
      ctx.post({ type: 'warm' });
    }
  };
  // Plain: only counted, as a minimal program would, so the harness's own cost shows beside it.
  const onPlain = (data: Uint8Array) => {
    const t = now();
    lastAnyNs = t;
    if (data[0] === Phase.Warmup) return onWarmup(readStamp(data)?.seq ?? 0);
    if (!measuring || data.byteLength < HEADER_BYTES) return void foreign++;
    if (firstNs === 0) firstNs = t;
    lastNs = t;
    if ((++received & 1023) === 0) ctx.progress(received);
  };
  const onMessage = (data: Uint8Array) => {
    const t = now();
    lastAnyNs = t;
    const s = readStamp(data);
    if (!s) {
      foreign++;
      return;
    }
    if (s.phase === Phase.Warmup) return onWarmup(s.seq);
    if (s.phase !== Phase.Measured || !measuring || s.seq >= n) {
      foreign++;
      return;
    }
    if (seen[s.seq]) {
      duplicated++;
      return;
    }
    seen[s.seq] = 1;
    received++;
    const from = Math.min(publishers - 1, Math.floor(s.seq / perPublisher));
    if (s.seq < maxSeq[from]!) reordered++;
    else maxSeq[from] = s.seq;
    if (firstNs === 0) firstNs = t;
    lastNs = t;
    latencyBySeq[s.seq] = t - s.intendedNs;
    measuring.corrected.record(t - s.intendedNs, t);
    measuring.uncorrected.record(t - s.sentNs, t);
    if ((received & 1023) === 0) ctx.progress(received);
  };
  const topics = job.topics ?? 1;
  for (let k = 0; k < topics; k++) await link.subscribe(topics > 1 ? `${job.topic}.${k}` : job.topic, job.plain ? onPlain : onMessage);
  ctx.post({ type: 'ready', address: link.address });

  const go = await ctx.next('go', 60_000);
  measuring = { corrected: new IntervalRecorder(go.epochNs), uncorrected: new IntervalRecorder(go.epochNs) };
  await ctx.next('finish', job.timeLimitMs + 30_000);
  // The publisher is done: wait for the rest, until nothing has arrived for settleMs.
  const settleNs = job.settleMs * 1e6;
  const giveUp = now() + Math.max(job.settleMs * 4, 5_000) * 1e6;
  lastAnyNs = now();
  while (received < n && now() - lastAnyNs < settleNs && now() < giveUp && !ctx.signal.aborted) await sleep(10);
  ctx.post({ type: 'progress', count: received });

  // Latency against message count: the sequence cut into SLICES consecutive runs (none when plain).
  const slices = Array.from({ length: job.plain ? 0 : SLICES }, () => newHistogram());
  if (!job.plain) for (let seq = 0; seq < n; seq++) if (seen[seq]) recordNs(slices[Math.floor((seq * SLICES) / n)]!, latencyBySeq[seq]!);
  return {
    received,
    lost: n - received,
    duplicated,
    reordered,
    foreign,
    firstNs,
    lastNs,
    corrected: encode(measuring.corrected.total),
    uncorrected: encode(measuring.uncorrected.total),
    correctedIntervals: measuring.corrected.encodeIntervals(),
    slices: slices.map((h) => ({ count: h.totalCount, p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), max: h.maxValue })),
  };
}

export async function publisher(ctx: RoleContext, job: Extract<Job, { role: 'pub' }>): Promise<Record<string, unknown>> {
  const link = await ctx.open(job.driver, 'connect', job.address, job);
  const payloads = new Payloads(job.size);
  const topics = job.topics ?? 1;
  const topicOf = (i: number) => (topics > 1 ? `${job.topic}.${i % topics}` : job.topic);
  const offset = job.seqOffset ?? 0;
  ctx.post({ type: 'ready', address: link.address });

  // Warm-up: a trickle of marked messages until the subscriber has seen one and the bench says go.
  await ctx.next('warm', 60_000);
  let warmSeq = 0;
  const warmUntil = Date.now() + 30_000;
  while (!ctx.has('go') && Date.now() < warmUntil && !ctx.signal.aborted) {
    const t = now();
    await link.publish(topicOf(warmSeq++), payloads.next(Phase.Warmup, job.index ?? 0, t, t));
    await sleep(2);
  }
  const { epochNs } = await ctx.next('go', 1_000);

  const sendDelay = new IntervalRecorder(epochNs);
  const window = new Window(1024);
  const startNs = now();
  const endBy = startNs + job.timeLimitMs * 1e6;
  let sent = 0;
  let failed = 0;
  // Plain: one unstamped buffer sent again and again, as a minimal program would.
  const plain = job.plain ? new Uint8Array(payloads.size) : undefined;
  /** Sends message i; `intendedNs` is its due time in the open loop, and now in the closed loop. */
  const send = (i: number, intendedNs?: number): Promise<unknown> | undefined => {
    const t = now();
    if ((++sent & 1023) === 0) ctx.progress(sent);
    try {
      if (plain) return asPromise(link.publish(topicOf(i), plain));
      sendDelay.record(intendedNs === undefined ? 0 : t - intendedNs, t);
      return asPromise(link.publish(topicOf(i), payloads.next(Phase.Measured, offset + i, intendedNs ?? t, t)));
    } catch {
      failed++;
      return undefined;
    }
  };

  if (job.rate) {
    await openLoop({
      startNs,
      intervalNs: Math.round(1e9 / job.rate),
      more: (i) => i < job.messages && now() < endBy && !ctx.signal.aborted,
      send: (i, intendedNs) => void window.add(send(i, intendedNs)),
    });
  } else if (job.awaitEach) {
    // As a caller that awaits every publish: one message at a time, no window, no explicit yield.
    for (let i = 0; i < job.messages && !ctx.signal.aborted; i++) {
      await send(i)?.catch(() => void failed++);
      if ((i & 1023) === 1023 && now() > endBy) break;
    }
  } else {
    for (let i = 0; i < job.messages && !ctx.signal.aborted; i++) {
      const full = window.add(send(i));
      if (full) await full;
      if ((i & 255) === 255) {
        await yieldToLoop();
        if (now() > endBy) break;
      }
    }
  }
  await Promise.race([window.drain(), sleep(10_000)]);
  const endNs = now();
  failed += window.failed;
  return { sent, failed, truncated: sent < job.messages, startNs, endNs, warmupMessages: warmSeq, sendDelay: encode(sendDelay.total) };
}

const asPromise = (result: Promise<void> | void): Promise<void> | undefined => (result instanceof Promise ? result : undefined);
