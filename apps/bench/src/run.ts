// The bench's side of each workload: starts the roles in worker processes (separate processes
// unless the transport is in-process), warms up, starts the measured phase on one shared clock, and
// turns what the roles report into results. Every wait is bounded.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { DriverInfo } from './drivers/index.js';
import type { Common } from './protocol.js';
import { AWAITED, OTEL, PLAIN, type Result, type Workload } from './results.js';
import { type Role, type Worker, Workers } from './workers.js';
import { type LatencySummary, decode, encode, merge, mergeIntervals, summarize } from './histogram.js';
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
  fanout: number[];
  fanin: number[];
  topics: number[];
  /** echo: open-loop points at these fractions of the closed-loop maximum (0..1). */
  ratePoints: number[];
  /** echo: search for the highest rate whose backlog stays bounded. */
  findMax: boolean;
  /** Labels every result of this plan (the payload size, when sizes are swept). */
  variant?: string;
  /** pubsub and echo also run plain, with no instrumentation: the harness's own cost beside each. */
  plain: boolean;
  /** pubsub on adapters also runs with a publisher that awaits each publish. */
  awaitPublish: boolean;
  /** pubsub and echo on adapters also run with @msg/otel instrumenting every transport. */
  otel: boolean;
}

export interface Progress {
  start(title: string, total: number, unit: 'messages' | 'seconds', count: () => number): void;
  stop(): void;
}

const READY_MS = 30_000;
const MAX_TRIALS = 7;

/**
 * Whether an open-loop run kept up: nearly all of the offered load completed, and the requests in
 * flight neither grew (the second half's mean at most 1.5 × the first half's) nor ended above 100 ms
 * worth of the offered rate.
 */
export function keptUp(r: Record<string, unknown>, rate: number, durationMs: number, clients: number): boolean {
  const completed = Number(r.completed);
  if (Number(r.failed) > 0 || completed < 0.95 * rate * (durationMs / 1000)) return false;
  const backlog = (r.backlog as number[] | undefined) ?? [];
  if (backlog.length < 4) return true;
  const half = Math.floor(backlog.length / 2);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(backlog.slice(0, half));
  const late = mean(backlog.slice(half));
  return late <= 1.5 * early + 2 * clients && backlog.at(-1)! <= rate * 0.1 + 4 * clients;
}

/** The shape of a pubsub run: how many subscribers, publishers and topics. */
export interface Shape {
  subscribers: number;
  publishers: number;
  topics: number;
  workload?: Workload;
  point?: { name: string; value: number };
}

export function shapeOf(workload: 'fanout' | 'fanin' | 'topics', value: number): Shape {
  if (workload === 'fanout') return { subscribers: value, publishers: 1, topics: 1, workload, point: { name: 'subscribers', value } };
  if (workload === 'fanin') return { subscribers: 1, publishers: value, topics: 1, workload, point: { name: 'publishers', value } };
  return { subscribers: 1, publishers: 1, topics: value, workload, point: { name: 'topics', value } };
}

const shapeLabel = (shape: Shape) => (shape.point ? `${shape.workload} ${shape.point.name}=${shape.point.value}` : '');

function encodeMerged(encoded: string[]): string {
  const h = merge(encoded);
  const out = encode(h);
  h.destroy();
  return out;
}
const now = () => Number(process.hrtime.bigint());

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
  #plan: Plan;
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

  #base(info: DriverInfo, workload: Workload, repetition: number, extra?: { variant?: string; rate?: number; load?: number }): Omit<Result, 'status' | 'point'> {
    const variant = [this.#plan.variant, extra?.variant].filter(Boolean).join(' ') || undefined;
    return { transport: info.name, kind: info.kind, baselineOf: info.baselineOf, peerOf: info.peerOf, semantics: info.semantics, workload, repetition, size: this.#plan.size, rate: extra?.rate ?? this.#plan.rate, load: extra?.load, variant, histograms: {}, processes: [] };
  }

  /** Replaces the plan, e.g. for each payload size of a sweep. */
  replan(plan: Plan): void {
    this.#plan = plan;
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
          onResult(await this.#guard((spawned) => this.#pubsub(info, repetition, spawned)));
          if (this.#plan.plain && !this.#signal.aborted) onResult(await this.#guard((spawned) => this.#pubsub(info, repetition, spawned, undefined, PLAIN)));
          if (this.#plan.awaitPublish && info.kind === 'adapter' && !this.#signal.aborted) onResult(await this.#guard((spawned) => this.#pubsub(info, repetition, spawned, undefined, AWAITED)));
          if (this.#plan.otel && info.kind === 'adapter' && !this.#signal.aborted) onResult(await this.#guard((spawned) => this.#pubsub(info, repetition, spawned, undefined, OTEL)));
          return;
        case 'fanout':
        case 'fanin':
        case 'topics':
          for (const value of workload === 'fanout' ? this.#plan.fanout : workload === 'fanin' ? this.#plan.fanin : this.#plan.topics) {
            if (this.#signal.aborted) return;
            const shape = shapeOf(workload, value);
            try {
              onResult(await this.#guard((spawned) => this.#pubsub(info, repetition, spawned, shape)));
            } catch (error) {
              onResult(failed(error, shape.point));
            }
          }
          return;
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

  /** pubsub in every shape: 1→1, fan-out to S subscribers, fan-in from P publishers, T topics. */
  async #pubsub(info: DriverInfo, repetition: number, spawned: Worker[], shape: Shape = { subscribers: 1, publishers: 1, topics: 1 }, variant?: typeof PLAIN | typeof AWAITED | typeof OTEL): Promise<Result> {
    const plain = variant === PLAIN;
    const plan = this.#plan;
    const common = { ...this.#common(info), otel: variant === OTEL };
    const topic = `bench.${common.runId}.pubsub`;
    const { subscribers: S, publishers: P, topics: T } = shape;
    const perPublisher = Math.ceil(plan.messages / P);
    const messages = perPublisher * P;
    const subWorker = this.#spawn(spawned, `${info.name} subscriber${S > 1 ? 's' : ''}`);
    const pubWorker = info.sameProcess ? subWorker : this.#spawn(spawned, `${info.name} publisher${P > 1 ? 's' : ''}`);
    const subs = Array.from({ length: S }, (_, k) => subWorker.start(`subscriber-${k}`, { ...common, role: 'sub', topic, messages, settleMs: 1_000, topics: T, publishers: P, plain }));
    const subAddresses: (string | undefined)[] = [];
    for (const sub of subs) subAddresses.push((await sub.next('ready', READY_MS, 'subscribing')).address);
    const rate = plan.rate ? Math.max(1, Math.round(plan.rate / P)) : undefined;
    const pubs = Array.from({ length: P }, (_, k) =>
      pubWorker.start(`publisher-${k}`, { ...common, role: 'pub', topic, messages: perPublisher, rate, address: subAddresses[0], topics: T, index: k, seqOffset: k * perPublisher, plain, awaitEach: variant === AWAITED }),
    );
    const pubAddresses: (string | undefined)[] = [];
    for (const pub of pubs) pubAddresses.push((await pub.next('ready', READY_MS, 'connecting')).address);
    for (const pub of pubs) pub.post({ type: 'warm' });
    for (const sub of subs) await sub.next('warm', 20_000, 'the first warm-up message from every publisher');
    await sleep(plan.warmupMs);
    const epochNs = now();
    for (const sub of subs) sub.post({ type: 'go', epochNs });
    for (const pub of pubs) pub.post({ type: 'go', epochNs });
    this.#progress.start(`${info.name} ${shapeLabel(shape) || 'pubsub'}${variant ? ` ${variant}` : ''}`, messages * S, 'messages', () => subs.reduce((sum, sub) => sum + sub.count, 0));
    const ps = [];
    for (const pub of pubs) ps.push((await pub.next('result', plan.timeLimitMs + 30_000, 'the end of publishing')).result);
    for (const sub of subs) sub.post({ type: 'finish' });
    const ss = [];
    for (const sub of subs) ss.push((await sub.next('result', 30_000, 'the end of receiving')).result);
    const sum = (xs: Record<string, unknown>[], key: string) => xs.reduce((total, x) => total + Number(x[key]), 0);
    const sent = sum(ps, 'sent');
    const received = sum(ss, 'received');
    const startNs = Math.min(...ps.map((p) => p.startNs as number));
    const endNs = Math.max(...ps.map((p) => p.endNs as number));
    const lastNs = Math.max(...ss.map((x) => x.lastNs as number));
    const sendSeconds = (endNs - startNs) / 1e9;
    const receiveSeconds = received > 0 ? (lastNs - startNs) / 1e9 : 0;
    const merged = (xs: Record<string, unknown>[], key: string) => (xs.length === 1 ? (xs[0]![key] as string) : encodeMerged(xs.map((x) => x[key] as string)));
    const corrected = merged(ss, 'corrected');
    const uncorrected = merged(ss, 'uncorrected');
    const sendDelay = merged(ps, 'sendDelay');
    const first = ss[0]!;
    const upTo = (i: number) => Math.round(((i + 1) * messages) / (first.slices as unknown[]).length);
    return {
      ...this.#base(info, shape.workload ?? 'pubsub', repetition, variant ? { variant } : undefined),
      point: shape.point,
      status: 'ok',
      sent,
      received,
      lost: sum(ss, 'lost'),
      duplicated: sum(ss, 'duplicated'),
      reordered: sum(ss, 'reordered'),
      failed: sum(ps, 'failed'),
      senderRate: perSecond(sent, sendSeconds),
      receiverRate: perSecond(received, receiveSeconds),
      senderMBps: mb(sent, sendSeconds, plan.size),
      receiverMBps: mb(received, receiveSeconds, plan.size),
      latency: summaryOf(corrected),
      uncorrected: summaryOf(uncorrected),
      sendDelay: summaryOf(sendDelay),
      histograms: { corrected, uncorrected, sendDelay },
      intervals: mergeIntervals(ss.map((x) => x.correctedIntervals as string[])),
      slices: S === 1 ? (first.slices as { count: number; p50: number; p99: number; max: number }[]).map((slice, i) => ({ upTo: upTo(i), ...slice })) : undefined,
      processes: processesOf([...pubs, ...subs]),
    };
  }

  async #server(info: DriverInfo, spawned: Worker[], common: Common): Promise<{ worker: Worker; role: Role; address?: string; service: string; runId: string }> {
    const worker = this.#spawn(spawned, `${info.name} server`);
    const service = `bench.${common.runId}.echo`;
    const role = worker.start('server', { ...common, role: 'server', service, workers: this.#plan.workers });
    const { address } = await role.next('ready', READY_MS, 'serving');
    return { worker, role, address, service, runId: common.runId };
  }

  /** One echo point: C clients for the plan's duration (or `durationMs`), closed loop or at `rate`. */
  async #echoPoint(info: DriverInfo, spawned: Worker[], server: { worker: Worker; address?: string; service: string }, common: Common, clients: number, rate: number | undefined, durationMs: number, title: string, plain = false) {
    const plan = this.#plan;
    const worker = info.sameProcess ? server.worker : this.#spawn(spawned, `${info.name} clients`);
    const role = worker.start(`clients-${clients}-${randomBytes(3).toString('hex')}`, { ...common, role: 'clients', service: server.service, clients, durationMs, rate, address: server.address, plain });
    try {
      // Clients connect one after the other, and some take long (a Moleculer broker waits 500 ms
      // for the other nodes' INFO when it starts).
      await role.next('ready', READY_MS + clients * 1_000, `${clients} clients connecting`);
      role.post({ type: 'go', epochNs: now() });
      this.#progress.start(title, (plan.warmupMs + durationMs) / 1000, 'seconds', () => role.count);
      const { result: r } = await role.next('result', plan.warmupMs + Math.min(durationMs, plan.timeLimitMs) + 30_000, 'the end of the echo run');
      return { r, role };
    } finally {
      this.#progress.stop();
      role.post({ type: 'stop' });
      if (!info.sameProcess) await worker.stop();
    }
  }

  #echoResult(info: DriverInfo, repetition: number, point: Result['point'], r: Record<string, unknown>, processes: ProcessStats[], extra?: { variant?: string; rate?: number; load?: number }): Result {
    const completed = Number(r.completed);
    const seconds = Number(r.seconds);
    return {
      ...this.#base(info, 'echo', repetition, extra),
      point,
      status: completed > 0 ? 'ok' : 'failed',
      error: completed > 0 ? undefined : `no request completed: ${String(r.lastError)}`,
      sent: completed + Number(r.failed),
      received: completed,
      failed: Number(r.failed),
      senderRate: perSecond(completed, seconds),
      receiverRate: perSecond(completed, seconds),
      receiverMBps: mb(completed, seconds, this.#plan.size),
      latency: summaryOf(r.corrected),
      uncorrected: summaryOf(r.uncorrected),
      sendDelay: summaryOf(r.sendDelay),
      histograms: { corrected: r.corrected as string, uncorrected: r.uncorrected as string, sendDelay: r.sendDelay as string },
      intervals: mergeIntervals([r.correctedIntervals as string[]]),
      processes,
    };
  }

  async #echo(info: DriverInfo, repetition: number, spawned: Worker[], onResult: (r: Result) => void): Promise<void> {
    const plan = this.#plan;
    const common = this.#common(info);
    const server = await this.#server(info, spawned, common);
    const serverProcess = () => (server.role.process ? [server.role.process] : []);
    let otel: { worker: Worker; role: Role; address?: string; service: string; runId: string } | undefined;
    for (const clients of plan.clients) {
      if (this.#signal.aborted) break;
      const point = { name: 'clients', value: clients };
      try {
        const { r, role } = await this.#echoPoint(info, spawned, server, common, clients, plan.rate, plan.durationMs, `${info.name} echo ×${clients}`);
        const max = this.#echoResult(info, repetition, point, r, processesOf([role]).concat(serverProcess()), plan.rate ? undefined : { load: 1 });
        onResult(max);
        if (plan.plain) {
          const { r: bare, role: bareRole } = await this.#echoPoint(info, spawned, server, common, clients, plan.rate, plan.durationMs, `${info.name} echo ×${clients} ${PLAIN}`, true);
          onResult(this.#echoResult(info, repetition, point, bare, processesOf([bareRole]).concat(serverProcess()), { variant: PLAIN, load: plan.rate ? undefined : 1 }));
        }
        if (plan.otel && info.kind === 'adapter') {
          // A server of its own, under another run id, so that its requests never reach the plain one.
          otel ??= await this.#server(info, spawned, { ...this.#common(info), otel: true });
          const { r: traced, role: tracedRole } = await this.#echoPoint(info, spawned, otel, { ...this.#common(info), runId: otel.runId, otel: true }, clients, plan.rate, plan.durationMs, `${info.name} echo ×${clients} ${OTEL}`);
          onResult(this.#echoResult(info, repetition, point, traced, processesOf([tracedRole]).concat(otel.role.process ? [otel.role.process] : []), { variant: OTEL, load: plan.rate ? undefined : 1 }));
        }
        if (plan.rate || max.status !== 'ok') continue;
        // Fixed-rate points at fractions of the closed-loop maximum: the latency-against-throughput curve.
        for (const fraction of plan.ratePoints) {
          if (this.#signal.aborted) break;
          const rate = Math.max(clients, Math.round((max.receiverRate ?? 0) * fraction));
          const extra = { variant: `load=${Math.round(fraction * 100)}%`, rate, load: fraction };
          const { r: at, role: atRole } = await this.#echoPoint(info, spawned, server, common, clients, rate, plan.durationMs, `${info.name} echo ×${clients} @${extra.variant.slice(5)}`);
          onResult(this.#echoResult(info, repetition, point, at, processesOf([atRole]).concat(serverProcess()), extra));
        }
        if (plan.findMax) onResult(await this.#maxSustainable(info, repetition, spawned, server, common, clients, max.receiverRate ?? 0));
      } catch (error) {
        onResult({ ...this.#base(info, 'echo', repetition), point, status: 'failed', error: error instanceof Error ? error.message : String(error) });
        if (/exited|interrupted/.test(String(error))) break;
      }
    }
  }

  /**
   * The highest open-loop rate whose backlog stays bounded: start at half the closed-loop maximum,
   * raise by a quarter while a trial keeps up (completes ≥ 95 % of what was offered and the
   * requests in flight do not keep growing), then bisect between the last good and the first bad
   * rate. At most MAX_TRIALS short trials.
   */
  async #maxSustainable(info: DriverInfo, repetition: number, spawned: Worker[], server: { worker: Worker; address?: string; service: string }, common: Common, clients: number, closedLoop: number): Promise<Result> {
    const plan = this.#plan;
    const point = { name: 'clients', value: clients };
    const trialMs = Math.max(500, Math.round(plan.durationMs / 2));
    let good: { rate: number; r: Record<string, unknown>; role: Role } | undefined;
    let bad: number | undefined;
    let rate = Math.max(clients, Math.round(closedLoop / 2));
    const trials: { rate: number; kept: boolean }[] = [];
    for (let trial = 0; trial < MAX_TRIALS && !this.#signal.aborted; trial++) {
      const { r, role } = await this.#echoPoint(info, spawned, server, common, clients, rate, trialMs, `${info.name} max search ${rate}/s`);
      const kept = keptUp(r, rate, trialMs, clients);
      trials.push({ rate, kept });
      if (kept && (!good || rate > good.rate)) good = { rate, r, role };
      if (!kept) bad = Math.min(bad ?? Infinity, rate);
      const next = bad === undefined ? Math.round(rate * 1.25) : Math.round(((good?.rate ?? rate / 2) + bad) / 2);
      if (bad !== undefined && good && bad - good.rate <= Math.max(clients, good.rate * 0.05)) break;
      rate = Math.max(clients, next);
    }
    const extra = { variant: 'max-sustainable', rate: good?.rate ?? 0 };
    if (!good) return { ...this.#base(info, 'echo', repetition, extra), point, status: 'failed', error: `no trial kept up (tried ${trials.map((t) => t.rate).join(', ')}/s)` };
    const result = this.#echoResult(info, repetition, point, good.r, processesOf([good.role]), extra);
    return { ...result, trials };
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
