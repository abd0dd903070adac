// The bench's side of each workload: starts the roles in worker processes (separate processes
// unless the transport is in-process), warms up, starts the measured phase on one shared clock, and
// turns what the roles report into results. Every wait is bounded.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { DriverInfo } from './drivers/index.js';
import type { Common } from './protocol.js';
import type { Result, Workload } from './results.js';
import { type Role, type Worker, Workers } from './workers.js';
import { type LatencySummary, decode, mergeIntervals, summarize } from './histogram.js';
import type { ProcessStats } from './machine.js';

export interface Plan {
  messages: number;
  size: number;
  clients: number[];
  workers: number;
  rate?: number;
  durationMs: number;
  warmupMs: number;
  windows: number[];
  respondents: number[];
  members: number[];
  timeLimitMs: number;
}

export interface Progress {
  start(title: string, total: number, unit: 'messages' | 'seconds', count: () => number): void;
  stop(): void;
}

const READY_MS = 30_000;
const now = () => process.hrtime.bigint();

function summaryOf(encoded: unknown): LatencySummary | undefined {
  if (typeof encoded !== 'string') return undefined;
  const h = decode(encoded);
  const s = summarize(h);
  h.destroy();
  return s;
}

function processesOf(roles: Role[]): ProcessStats[] {
  const byPid = new Map<number, ProcessStats>();
  for (const role of roles) if (role.process) byPid.set(role.process.pid, role.process);
  return [...byPid.values()];
}

const mb = (messages: number, seconds: number, size: number) => (seconds > 0 ? Math.round(((messages * size) / seconds / 1e6) * 100) / 100 : 0);
const perSecond = (count: number, seconds: number) => (seconds > 0 ? Math.round(count / seconds) : 0);

export class Runner {
  readonly workers = new Workers();
  readonly #plan: Plan;
  readonly #progress: Progress;
  readonly #signal: AbortSignal;

  constructor(plan: Plan, progress: Progress, signal: AbortSignal) {
    this.#plan = plan;
    this.#progress = progress;
    this.#signal = signal;
  }

  #common(info: DriverInfo): Common & { runId: string } {
    return { driver: info.name, runId: randomBytes(4).toString('hex'), size: this.#plan.size, warmupMs: this.#plan.warmupMs, timeLimitMs: this.#plan.timeLimitMs };
  }

  #base(info: DriverInfo, workload: Workload, repetition: number): Omit<Result, 'status' | 'point'> {
    return { transport: info.name, kind: info.kind, baselineOf: info.baselineOf, semantics: info.semantics, workload, repetition, size: this.#plan.size, rate: this.#plan.rate, histograms: {}, processes: [] };
  }

  async #guard<T>(work: (spawned: Worker[]) => Promise<T>): Promise<T> {
    const spawned: Worker[] = [];
    try {
      return await work(spawned);
    } finally {
      this.#progress.stop();
      await Promise.all(spawned.map((w) => w.stop()));
    }
  }

  #spawn(spawned: Worker[], name: string): Worker {
    if (this.#signal.aborted) throw new Error('interrupted');
    const worker = this.workers.spawn(name);
    spawned.push(worker);
    return worker;
  }

  async run(info: DriverInfo, workload: Workload, repetition: number, onResult: (r: Result) => void): Promise<void> {
    const failed = (error: unknown, point?: Result['point']): Result => ({
      ...this.#base(info, workload, repetition),
      point,
      status: 'failed',
      error: error instanceof Error ? error.message : String(error),
    });
    try {
      switch (workload) {
        case 'pubsub':
          return onResult(await this.#guard((spawned) => this.#pubsub(info, repetition, spawned)));
        case 'echo':
          return await this.#guard((spawned) => this.#echo(info, repetition, spawned, onResult));
        case 'stream':
          return await this.#guard((spawned) => this.#stream(info, repetition, spawned, onResult));
        case 'survey':
        case 'bus':
          for (const value of workload === 'survey' ? this.#plan.respondents : this.#plan.members) {
            if (this.#signal.aborted) return;
            const point = { name: workload === 'survey' ? 'respondents' : 'members', value };
            try {
              onResult(await this.#guard((spawned) => (workload === 'survey' ? this.#survey(info, repetition, value, spawned) : this.#bus(info, repetition, value, spawned))));
            } catch (error) {
              onResult(failed(error, point));
            }
          }
          return;
      }
    } catch (error) {
      onResult(failed(error));
    }
  }

  async #pubsub(info: DriverInfo, repetition: number, spawned: Worker[]): Promise<Result> {
    const plan = this.#plan;
    const common = this.#common(info);
    const topic = `bench.${common.runId}.pubsub`;
    const subWorker = this.#spawn(spawned, `${info.name} subscriber`);
    const pubWorker = info.sameProcess ? subWorker : this.#spawn(spawned, `${info.name} publisher`);
    const sub = subWorker.start('subscriber', { ...common, role: 'sub', topic, messages: plan.messages, settleMs: 1_000 });
    const { address } = await sub.next('ready', READY_MS, 'subscribing');
    const pub = pubWorker.start('publisher', { ...common, role: 'pub', topic, messages: plan.messages, rate: plan.rate, address });
    const { address: publisherAddress } = await pub.next('ready', READY_MS, 'connecting');
    sub.post({ type: 'peer', address: publisherAddress });
    pub.post({ type: 'warm' });
    await sub.next('warm', 20_000, 'the first warm-up message');
    await sleep(plan.warmupMs);
    const epochNs = now();
    sub.post({ type: 'go', epochNs });
    pub.post({ type: 'go', epochNs });
    this.#progress.start(`${info.name} pubsub`, plan.messages, 'messages', () => sub.count);
    const { result: p } = await pub.next('result', plan.timeLimitMs + 30_000, 'the end of publishing');
    sub.post({ type: 'finish' });
    const { result: s } = await sub.next('result', 30_000, 'the end of receiving');
    const sent = Number(p.sent);
    const received = Number(s.received);
    const sendSeconds = Number((p.endNs as bigint) - (p.startNs as bigint)) / 1e9;
    const receiveSeconds = received > 0 ? Number((s.lastNs as bigint) - (p.startNs as bigint)) / 1e9 : 0;
    const upTo = (i: number) => Math.round(((i + 1) * plan.messages) / (s.slices as unknown[]).length);
    return {
      ...this.#base(info, 'pubsub', repetition),
      point: undefined,
      status: 'ok',
      sent,
      received,
      lost: Number(s.lost),
      duplicated: Number(s.duplicated),
      reordered: Number(s.reordered),
      failed: Number(p.failed),
      senderRate: perSecond(sent, sendSeconds),
      receiverRate: perSecond(received, receiveSeconds),
      senderMBps: mb(sent, sendSeconds, plan.size),
      receiverMBps: mb(received, receiveSeconds, plan.size),
      latency: summaryOf(s.corrected),
      uncorrected: summaryOf(s.uncorrected),
      sendDelay: summaryOf(p.sendDelay),
      histograms: { corrected: s.corrected as string, uncorrected: s.uncorrected as string, sendDelay: p.sendDelay as string },
      intervals: mergeIntervals([s.correctedIntervals as string[]]),
      slices: (s.slices as { count: number; p50: number; p99: number; max: number }[]).map((slice, i) => ({ upTo: upTo(i), ...slice })),
      processes: processesOf([pub, sub]),
    };
  }

  async #server(info: DriverInfo, spawned: Worker[], common: Common): Promise<{ worker: Worker; role: Role; address?: string; service: string }> {
    const worker = this.#spawn(spawned, `${info.name} server`);
    const service = `bench.${common.runId}.echo`;
    const role = worker.start('server', { ...common, role: 'server', service, workers: this.#plan.workers });
    const { address } = await role.next('ready', READY_MS, 'serving');
    return { worker, role, address, service };
  }

  async #echo(info: DriverInfo, repetition: number, spawned: Worker[], onResult: (r: Result) => void): Promise<void> {
    const plan = this.#plan;
    const common = this.#common(info);
    const server = await this.#server(info, spawned, common);
    for (const clients of plan.clients) {
      if (this.#signal.aborted) break;
      const point = { name: 'clients', value: clients };
      const worker = info.sameProcess ? server.worker : this.#spawn(spawned, `${info.name} clients`);
      const id = `clients-${clients}`;
      try {
        const role = worker.start(id, { ...common, role: 'clients', service: server.service, clients, durationMs: plan.durationMs, rate: plan.rate, address: server.address });
        await role.next('ready', READY_MS, `${clients} clients connecting`);
        role.post({ type: 'go', epochNs: now() });
        this.#progress.start(`${info.name} echo ×${clients}`, (plan.warmupMs + plan.durationMs) / 1000, 'seconds', () => role.count);
        const { result: r } = await role.next('result', plan.warmupMs + Math.min(plan.durationMs, plan.timeLimitMs) + 30_000, 'the end of the echo run');
        this.#progress.stop();
        role.post({ type: 'stop' });
        if (!info.sameProcess) await worker.stop();
        const completed = Number(r.completed);
        const seconds = Number(r.seconds);
        onResult({
          ...this.#base(info, 'echo', repetition),
          point,
          status: completed > 0 ? 'ok' : 'failed',
          error: completed > 0 ? undefined : `no request completed: ${String(r.lastError)}`,
          sent: completed + Number(r.failed),
          received: completed,
          failed: Number(r.failed),
          senderRate: perSecond(completed, seconds),
          receiverRate: perSecond(completed, seconds),
          receiverMBps: mb(completed, seconds, plan.size),
          latency: summaryOf(r.corrected),
          uncorrected: summaryOf(r.uncorrected),
          sendDelay: summaryOf(r.sendDelay),
          histograms: { corrected: r.corrected as string, uncorrected: r.uncorrected as string, sendDelay: r.sendDelay as string },
          intervals: mergeIntervals([r.correctedIntervals as string[]]),
          processes: processesOf([role]).concat(server.role.process ? [server.role.process] : []),
        });
      } catch (error) {
        this.#progress.stop();
        onResult({ ...this.#base(info, 'echo', repetition), point, status: 'failed', error: error instanceof Error ? error.message : String(error) });
        if (/exited|interrupted/.test(String(error))) break;
      }
    }
  }

  async #stream(info: DriverInfo, repetition: number, spawned: Worker[], onResult: (r: Result) => void): Promise<void> {
    const plan = this.#plan;
    const common = this.#common(info);
    const server = await this.#server(info, spawned, common);
    const worker = info.sameProcess ? server.worker : this.#spawn(spawned, `${info.name} stream client`);
    const perWindowMs = Math.max(200, Math.round(plan.durationMs / 2));
    const role = worker.start('stream', { ...common, role: 'stream', service: server.service, windows: plan.windows, durationMs: perWindowMs, address: server.address });
    await role.next('ready', READY_MS, 'connecting');
    role.post({ type: 'go', epochNs: now() });
    this.#progress.start(`${info.name} stream`, (plan.warmupMs + perWindowMs * plan.windows.length) / 1000, 'seconds', () => role.count);
    const { result } = await role.next('result', plan.warmupMs + perWindowMs * plan.windows.length + 60_000, 'the end of the stream run');
    for (const p of result.points as { window: number; completed: number; failed: number; outOfOrder: number; seconds: number; latency: string }[]) {
      onResult({
        ...this.#base(info, 'stream', repetition),
        point: { name: 'window', value: p.window },
        status: p.completed > 0 ? 'ok' : 'failed',
        error: p.completed > 0 ? undefined : 'no request completed',
        sent: p.completed + p.failed,
        received: p.completed,
        failed: p.failed,
        outOfOrder: p.outOfOrder,
        senderRate: perSecond(p.completed, p.seconds),
        receiverRate: perSecond(p.completed, p.seconds),
        receiverMBps: mb(p.completed, p.seconds, plan.size),
        latency: summaryOf(p.latency),
        histograms: { corrected: p.latency },
        processes: processesOf([role]),
      });
    }
  }

  async #survey(info: DriverInfo, repetition: number, respondents: number, spawned: Worker[]): Promise<Result> {
    const plan = this.#plan;
    const common = this.#common(info);
    const worker = this.#spawn(spawned, `${info.name} survey`);
    const deadlineMs = 1_000;
    const role = worker.start('survey', { ...common, role: 'survey', topic: `bench.${common.runId}.survey`, respondents, durationMs: plan.durationMs, deadlineMs });
    await role.next('ready', READY_MS, 'respondents joining');
    role.post({ type: 'go', epochNs: now() });
    this.#progress.start(`${info.name} survey R=${respondents}`, (plan.warmupMs + plan.durationMs) / 1000, 'seconds', () => role.count);
    const { result: r } = await role.next('result', plan.warmupMs + plan.durationMs + deadlineMs + 30_000, 'the end of the survey run');
    const complete = Number(r.complete);
    return {
      ...this.#base(info, 'survey', repetition),
      point: { name: 'respondents', value: respondents },
      status: complete > 0 ? 'ok' : 'failed',
      error: complete > 0 ? undefined : 'no survey got every answer',
      sent: complete + Number(r.incomplete),
      received: complete,
      failed: Number(r.incomplete),
      senderRate: perSecond(complete, Number(r.seconds)),
      receiverRate: perSecond(Number(r.answers), Number(r.seconds)),
      latency: summaryOf(r.latency),
      histograms: { corrected: r.latency as string },
      processes: processesOf([role]),
    };
  }

  async #bus(info: DriverInfo, repetition: number, members: number, spawned: Worker[]): Promise<Result> {
    const plan = this.#plan;
    const common = this.#common(info);
    const worker = this.#spawn(spawned, `${info.name} bus`);
    const messages = Math.min(plan.messages, 20_000);
    const role = worker.start('bus', { ...common, role: 'bus', group: `bench.${common.runId}.bus`, members, messages, settleMs: 1_000 });
    await role.next('ready', READY_MS, 'members joining');
    role.post({ type: 'go', epochNs: now() });
    const perMember = Math.max(1, Math.floor(messages / members));
    this.#progress.start(`${info.name} bus M=${members}`, perMember * members * (members - 1), 'messages', () => role.count);
    const { result: r } = await role.next('result', plan.timeLimitMs + 30_000, 'the end of the bus run');
    const delivered = Number(r.delivered);
    const seconds = Number(r.seconds);
    return {
      ...this.#base(info, 'bus', repetition),
      point: { name: 'members', value: members },
      status: delivered > 0 ? 'ok' : 'failed',
      error: delivered > 0 ? undefined : 'nothing was delivered',
      sent: Number(r.sent),
      received: delivered,
      lost: Number(r.lost),
      duplicated: Number(r.duplicated),
      senderRate: perSecond(Number(r.sent), seconds),
      receiverRate: perSecond(delivered, seconds),
      receiverMBps: mb(delivered, seconds, plan.size),
      latency: summaryOf(r.latency),
      histograms: { corrected: r.latency as string },
      processes: processesOf([role]),
    };
  }
}
