// echo and stream, worker side: an echo server, C concurrent clients (closed loop, or open loop on a
// fixed schedule with --rate), and one pipelining client sweeping its in-flight window.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../protocol.js';
import type { RoleContext } from '../role.js';
import type { Link } from '../drivers/index.js';
import { IntervalRecorder, encode } from '../histogram.js';
import { Phase, newPayload, stamp } from '../payload.js';
import { Window, now, openLoop } from '../pace.js';

const REQUEST_TIMEOUT_MS = 5_000;
/** A client stops after this many failed requests in a row: its peer is gone. */
const MAX_FAILURES = 20;

export async function server(ctx: RoleContext, job: Extract<Job, { role: 'server' }>): Promise<Record<string, unknown>> {
  const link = await ctx.open(job.driver, 'bind', undefined, job);
  await link.serve(job.service, job.workers);
  ctx.post({ type: 'ready', address: link.address });
  await ctx.next('finish', 24 * 3_600_000);
  return {};
}

export async function clients(ctx: RoleContext, job: Extract<Job, { role: 'clients' }>): Promise<Record<string, unknown>> {
  const links: Link[] = [];
  for (let c = 0; c < job.clients; c++) links.push(await ctx.open(job.driver, 'connect', job.address, job));
  const template = newPayload(job.size);
  ctx.post({ type: 'ready' });
  const { epochNs } = await ctx.next('go', 60_000);

  const warmEnd = now() + BigInt(job.warmupMs) * 1_000_000n;
  const end = warmEnd + BigInt(job.durationMs) * 1_000_000n;
  const hardEnd = warmEnd + BigInt(job.timeLimitMs) * 1_000_000n;
  const corrected = new IntervalRecorder(epochNs);
  const uncorrected = new IntervalRecorder(epochNs);
  const sendDelay = new IntervalRecorder(epochNs);
  let completed = 0;
  let failed = 0;
  let lastError = '';
  let measuredStart = 0n;
  let measuredEnd = 0n;

  const requestOnce = (link: (typeof links)[number], seq: number, intendedNs: bigint): Promise<boolean> => {
    const sentNs = now();
    const measured = intendedNs >= warmEnd;
    if (measured) sendDelay.record(sentNs - intendedNs, sentNs);
    return link.request(job.service, stamp(template.slice(), measured ? Phase.Measured : Phase.Warmup, seq, intendedNs, sentNs), REQUEST_TIMEOUT_MS).then(
      () => {
        const t = now();
        if (measured) {
          if (measuredStart === 0n) measuredStart = intendedNs;
          measuredEnd = t;
          corrected.record(t - intendedNs, t);
          uncorrected.record(t - sentNs, t);
          completed++;
          ctx.progress(completed);
        }
        return true;
      },
      (error: unknown) => {
        if (measured) failed++;
        lastError = error instanceof Error ? error.message : String(error);
        return false;
      },
    );
  };

  const running = () => !ctx.signal.aborted && now() < hardEnd;
  // Open loop: requests sent and not yet answered, sampled over the measured time. A backlog that
  // keeps growing means the offered rate is above what the transport sustains.
  let issued = 0;
  let settled = 0;
  const backlog: number[] = [];
  const sampler = setInterval(() => {
    if (now() >= warmEnd && now() < end) backlog.push(issued - settled);
  }, 50);
  if (job.rate) {
    // Open loop: the total rate is shared by the clients, each on its own evenly offset schedule.
    const intervalNs = BigInt(Math.round((1e9 * job.clients) / job.rate));
    const startNs = now();
    await Promise.all(
      links.map(async (link, c) => {
        const window = new Window(10_000);
        await openLoop({
          startNs: startNs + (intervalNs * BigInt(c)) / BigInt(job.clients),
          intervalNs,
          more: (_i, due) => due < end && running(),
          send: (i, due) => {
            issued++;
            void window.add(requestOnce(link, i, due).finally(() => void settled++));
          },
        });
        await Promise.race([window.drain(), sleep(REQUEST_TIMEOUT_MS + 1_000)]);
      }),
    );
  } else {
    // Closed loop: each client has one request outstanding, as the classic echo runners do.
    await Promise.all(
      links.map(async (link) => {
        let failures = 0;
        for (let i = 0; now() < end && running() && failures < MAX_FAILURES; i++) {
          failures = (await requestOnce(link, i, now())) ? 0 : failures + 1;
        }
      }),
    );
  }
  clearInterval(sampler);
  const seconds = Number(measuredEnd - measuredStart) / 1e9;
  return {
    backlog,
    completed,
    failed,
    lastError,
    seconds,
    corrected: encode(corrected.total),
    uncorrected: encode(uncorrected.total),
    sendDelay: encode(sendDelay.total),
    correctedIntervals: corrected.encodeIntervals(),
  };
}

export async function stream(ctx: RoleContext, job: Extract<Job, { role: 'stream' }>): Promise<Record<string, unknown>> {
  const link = await ctx.open(job.driver, 'connect', job.address, job);
  const template = newPayload(job.size);
  ctx.post({ type: 'ready' });
  const { epochNs } = await ctx.next('go', 60_000);
  const points = [];
  let total = 0;
  let first = true;
  for (const windowSize of job.windows) {
    if (ctx.signal.aborted) break;
    const latency = new IntervalRecorder(epochNs);
    let completed = 0;
    let failed = 0;
    let outOfOrder = 0;
    let expected = 0;
    let sent = 0;
    const window = new Window(windowSize);
    const phaseMs = first ? job.warmupMs : 0;
    first = false;
    const warmEnd = now() + BigInt(phaseMs) * 1_000_000n;
    const end = warmEnd + BigInt(job.durationMs) * 1_000_000n;
    let startNs = 0n;
    while (now() < end && !ctx.signal.aborted && failed < MAX_FAILURES) {
      const seq = sent++;
      const sentNs = now();
      const measured = sentNs >= warmEnd;
      if (measured && startNs === 0n) startNs = sentNs;
      await window.add(
        link.request(job.service, stamp(template.slice(), Phase.Measured, seq, sentNs, sentNs), REQUEST_TIMEOUT_MS).then(
          () => {
            if (seq !== expected) outOfOrder++;
            expected = seq + 1;
            if (!measured) return;
            const t = now();
            latency.record(t - sentNs, t);
            completed++;
            ctx.progress(total + completed);
          },
          () => void failed++,
        ),
      );
    }
    await Promise.race([window.drain(), sleep(REQUEST_TIMEOUT_MS + 1_000)]);
    total += completed;
    points.push({ window: windowSize, completed, failed, outOfOrder, seconds: Number(now() - startNs) / 1e9, latency: encode(latency.total) });
  }
  return { points };
}
