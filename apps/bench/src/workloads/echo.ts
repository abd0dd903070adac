// echo and stream, worker side: an echo server, C concurrent clients (closed loop, or open loop on a
// fixed schedule with --rate), and one pipelining client sweeping its in-flight window.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../protocol.js';
import type { RoleContext } from '../role.js';
import type { Link } from '../drivers/index.js';
import { IntervalRecorder, encode } from '../histogram.js';
import { Payloads, Phase } from '../payload.js';
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
  const payloads = new Payloads(job.size);
  // Plain: one unstamped buffer and no latency recorded, as a minimal program would.
  const plain = job.plain ? new Uint8Array(payloads.size) : undefined;
  ctx.post({ type: 'ready' });
  const { epochNs } = await ctx.next('go', 60_000);

  const warmEnd = now() + job.warmupMs * 1e6;
  const end = warmEnd + job.durationMs * 1e6;
  const hardEnd = warmEnd + job.timeLimitMs * 1e6;
  const corrected = new IntervalRecorder(epochNs);
  const uncorrected = new IntervalRecorder(epochNs);
  const sendDelay = new IntervalRecorder(epochNs);
  let completed = 0;
  let failed = 0;
  let lastError = '';
  let measuredStart = 0;
  let measuredEnd = 0;

  /** One request; `intendedNs` is its due time in the open loop, and now in the closed loop. */
  const requestOnce = (link: (typeof links)[number], seq: number, intendedNs?: number): Promise<boolean> => {
    const sentNs = now();
    const intended = intendedNs ?? sentNs;
    const measured = intended >= warmEnd;
    if (measured && !plain) sendDelay.record(sentNs - intended, sentNs);
    const data = plain ?? payloads.next(measured ? Phase.Measured : Phase.Warmup, seq, intended, sentNs);
    return link.request(job.service, data, REQUEST_TIMEOUT_MS).then(
      () => {
        if (measured) {
          const t = now();
          if (measuredStart === 0) measuredStart = intended;
          measuredEnd = t;
          if (!plain) {
            corrected.record(t - intended, t);
            uncorrected.record(t - sentNs, t);
          }
          if ((++completed & 255) === 0) ctx.progress(completed);
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
    const intervalNs = Math.round((1e9 * job.clients) / job.rate);
    const startNs = now();
    await Promise.all(
      links.map(async (link, c) => {
        const window = new Window(10_000);
        await openLoop({
          startNs: startNs + Math.round((intervalNs * c) / job.clients),
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
          failures = (await requestOnce(link, i)) ? 0 : failures + 1;
        }
      }),
    );
  }
  clearInterval(sampler);
  const seconds = (measuredEnd - measuredStart) / 1e9;
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
  const payloads = new Payloads(job.size);
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
    const warmEnd = now() + phaseMs * 1e6;
    const end = warmEnd + job.durationMs * 1e6;
    let startNs = 0;
    while (now() < end && !ctx.signal.aborted && failed < MAX_FAILURES) {
      const seq = sent++;
      const sentNs = now();
      const measured = sentNs >= warmEnd;
      if (measured && startNs === 0) startNs = sentNs;
      await window.add(
        link.request(job.service, payloads.next(Phase.Measured, seq, sentNs, sentNs), REQUEST_TIMEOUT_MS).then(
          () => {
            if (seq !== expected) outOfOrder++;
            expected = seq + 1;
            if (!measured) return;
            const t = now();
            latency.record(t - sentNs, t);
            completed++;
            if ((completed & 255) === 0) ctx.progress(total + completed);
          },
          () => void failed++,
        ),
      );
    }
    await Promise.race([window.drain(), sleep(REQUEST_TIMEOUT_MS + 1_000)]);
    total += completed;
    points.push({ window: windowSize, completed, failed, outOfOrder, seconds: (now() - startNs) / 1e9, latency: encode(latency.total) });
  }
  return { points };
}
