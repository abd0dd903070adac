#!/usr/bin/env node
// msg-bench: the same workloads on every transport, side by side with plain TCP and, with
// --baseline, with each backend's raw client library.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { type DriverInfo, catalogue, driverInfo } from './drivers/index.js';
import { answers } from './drivers/ports.js';
import { type Plan, type Progress, Runner } from './run.js';
import { type Result, WORKLOADS, type Workload, label } from './results.js';
import { type Environment, table, write } from './report.js';

class UsageError extends Error {}

function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max.toLocaleString('en-US')}`);
    return n;
  };
}

function list(name: string, max: number) {
  return (value: string): number[] => value.split(',').map((v) => positiveInt(name, max)(v.trim()));
}

const seconds = (value: string): number => {
  const n = Number(value.replace(/s$/, ''));
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('duration is seconds, above 0 and at most 3600 (e.g. 5 or 2.5s)');
  return n;
};

const program = new Command()
  .name('msg-bench')
  .description('Runs the same messaging workloads on every msg transport, against plain TCP and the raw client libraries.')
  .option('--transport <names>', 'a transport, a comma-separated list, or "all" (every one whose server answers)')
  .option('--workload <names>', `${WORKLOADS.join('|')}, a comma-separated list, or "all"`)
  .option('--messages <n>', 'pubsub messages per run (100,000 by default; up to 1,000,000)', positiveInt('--messages', 10_000_000))
  .option('--size <bytes>', 'payload size in bytes, at least 24 (the header)', positiveInt('--size', 16 * 1024 * 1024), 1024)
  .option('--clients <list>', 'echo client counts to sweep, e.g. 1,2,4,8', list('--clients', 1024))
  .option('--workers <n>', 'repliers serving the echo service', positiveInt('--workers', 256), 1)
  .option('--rate <msg/s>', 'open loop: a fixed offered load (total, messages or requests per second)', positiveInt('--rate', 10_000_000))
  .option('--duration <seconds>', 'measured time per echo, stream, survey point', seconds)
  .option('--warmup <seconds>', 'warm-up before each measured phase, excluded from results', seconds)
  .option('--windows <list>', 'stream: in-flight windows to sweep', list('--windows', 65_536))
  .option('--respondents <list>', 'survey: respondent counts to sweep', list('--respondents', 256))
  .option('--members <list>', 'bus: member counts to sweep', list('--members', 64))
  .option('--sizes <list>', 'payload sizes to sweep in bytes, e.g. 64,1024,16384,1048576 (pubsub messages are capped at 128 MiB per run)', list('--sizes', 16 * 1024 * 1024))
  .option('--rate-points <list>', 'echo: open-loop points at these percentages of the closed-loop maximum, e.g. 25,50,75,90', list('--rate-points', 100))
  .option('--find-max', 'echo: search for the highest rate whose backlog stays bounded', false)
  .option('--fanout <list>', 'fanout: subscriber counts (one publisher)', list('--fanout', 256))
  .option('--fanin <list>', 'fanin: publisher counts (one subscriber)', list('--fanin', 256))
  .option('--topics <list>', 'topics: topic counts (one publisher cycling over them, one subscriber to each)', list('--topics', 100_000))
  .option('--repeat <n>', 'repetitions, each in a new random transport order', positiveInt('--repeat', 100), 1)
  .option('--baseline', 'also run each backend raw client library (pubsub and echo)', false)
  .option('--await-publish', 'pubsub on adapters also runs with a publisher that awaits each publish (rows "awaited"), against the raw client flat out', false)
  .option('--plain', 'pubsub and echo also run with no per-message instrumentation (rows "plain"): the harness cost beside every figure', false)
  .option('--otel', 'pubsub and echo on adapters also run with @msg/otel instrumenting every transport (rows "otel", ×off: their rate over the same run without)', false)
  .option('--out <dir>', 'where to write results (default bench-results/<timestamp>)')
  .addOption(new Option('--time-limit <seconds>', 'hard limit on any one measured phase').argParser(seconds).default(120))
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

interface Selection {
  drivers: DriverInfo[];
  skipped: string[];
  notes: string[];
}

async function unavailable(info: DriverInfo): Promise<string | undefined> {
  try {
    await info.load();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (info.server && !(await answers(info.server.host, info.server.port))) return `no server answers on ${info.server.host}:${info.server.port}`;
  return undefined;
}

async function select(names: string | undefined, baseline: boolean): Promise<Selection> {
  const skipped: string[] = [];
  const notes: string[] = [];
  let wanted: DriverInfo[];
  let explicit = false;
  if (!names) {
    wanted = catalogue.filter((d) => d.embedded && d.kind !== 'raw');
  } else if (names === 'all') {
    wanted = catalogue.filter((d) => d.kind !== 'raw' && d.kind !== 'peer');
  } else {
    explicit = true;
    wanted = names.split(',').map((n) => {
      const info = driverInfo(n.trim());
      if (!info) throw new UsageError(`unknown transport "${n.trim()}"; known: ${catalogue.map((d) => d.name).join(', ')}, all`);
      return info;
    });
  }
  if (baseline) {
    for (const info of [...wanted]) {
      const raw = catalogue.find((d) => d.baselineOf === info.name);
      if (raw && !wanted.includes(raw)) wanted.push(raw);
    }
  }
  const tcp = driverInfo('tcp')!;
  if (!wanted.includes(tcp)) {
    wanted.unshift(tcp);
    notes.push('tcp (plain net sockets, the loopback limit) was added so that every result is also shown against it');
  }
  const drivers: DriverInfo[] = [];
  for (const info of wanted) {
    const reason = await unavailable(info);
    if (!reason) drivers.push(info);
    else if (explicit && wanted.length <= 2 && info.kind !== 'raw' && info.name !== 'tcp') throw new UsageError(`${info.name} cannot run: ${reason}`);
    else skipped.push(`${info.name}: ${reason}`);
  }
  return { drivers, skipped, notes };
}

function environment(parameters: Record<string, unknown>): Environment {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '.'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // Not a git checkout: the commit stays unknown.
  }
  return {
    startedAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 1e8) / 10,
    commit,
    parameters,
  };
}

function progressBar(): Progress {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{title} [{bar}] {percentage}% | {count} | {rate}/s', barsize: 24, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let timer: NodeJS.Timeout | undefined;
  return {
    start(title, total, unit, count) {
      this.stop();
      const started = Date.now();
      let last = { t: started, n: 0 };
      bar.start(1000, 0, { title: title.padEnd(24), count: 0, rate: 0 });
      timer = setInterval(() => {
        const t = Date.now();
        const n = count();
        const rate = t > last.t ? Math.round(((n - last.n) * 1000) / (t - last.t)) : 0;
        last = { t, n };
        const done = unit === 'messages' ? n / total : (t - started) / 1000 / total;
        bar.update(Math.min(1000, Math.round(done * 1000)), { count: n.toLocaleString('en-US'), rate: rate.toLocaleString('en-US') });
      }, 250);
    },
    stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      bar.stop();
    },
  };
}

function sizeLabel(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** What a workload can run on: survey and bus need the core API; pubsub and echo run everywhere. */
function supports(info: DriverInfo, workload: Workload): string | undefined {
  if (info.requestReplyOnly && workload !== 'echo' && workload !== 'stream') return `${info.name}: request/reply only (echo, stream); ${workload} on it is out of scope`;
  if ((workload === 'survey' || workload === 'bus') && info.kind !== 'adapter') return `${info.name}: ${workload} needs an adapter's ${workload} pattern`;
  if (workload === 'stream' && info.name === 'nanomsg-raw') return 'nanomsg-raw: stream needs several requests in flight, which REQ does not allow';
  if (workload === 'fanout' && (info.kind !== 'adapter' || info.name === 'grpc') && !(info.kind === 'raw' && info.server))
    return `${info.name}: fanout needs a broker or a brokerless adapter (its subscribers bind, one publisher reaches only one)`;
  if (workload === 'fanin' && info.kind === 'raw' && !info.server) return `${info.name}: no fanin baseline`;
  if (workload === 'topics' && info.kind !== 'adapter') return `${info.name}: topics runs on adapters only`;
  if (workload !== 'pubsub' && workload !== 'fanout' && workload !== 'fanin' && info.name === 'kafka-raw') return `kafka-raw: no ${workload} baseline (Kafka has no request/reply)`;
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const quick = argv.length === 0;
  let parsed;
  try {
    parsed = program.parse(argv, { from: 'user' }).opts();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
    return 2;
  }
  const o = parsed as {
    transport?: string;
    workload?: string;
    messages?: number;
    size: number;
    clients?: number[];
    workers: number;
    rate?: number;
    duration?: number;
    warmup?: number;
    windows?: number[];
    respondents?: number[];
    members?: number[];
    repeat: number;
    sizes?: number[];
    ratePoints?: number[];
    findMax: boolean;
    fanout?: number[];
    fanin?: number[];
    topics?: number[];
    baseline: boolean;
    plain: boolean;
    awaitPublish: boolean;
    otel: boolean;
    out?: string;
    timeLimit: number;
  };
  if (program.args.length) throw new UsageError(`unexpected argument "${program.args[0]}"`);
  const sizes = o.sizes ?? [o.size];
  if (sizes.some((s) => s < 24)) throw new UsageError('every size in --sizes must be at least 24 bytes (the header)');
  if (o.rate && (o.ratePoints || o.findMax)) throw new UsageError('--rate-points and --find-max start from the closed-loop maximum: leave out --rate');
  if (o.size < 24) throw new UsageError('--size must be at least 24 bytes: each payload carries a 24-byte header (sequence number and timestamps)');
  const workloads: Workload[] = !o.workload
    ? ['pubsub', 'echo']
    : o.workload === 'all'
      ? [...WORKLOADS]
      : o.workload.split(',').map((w) => {
          if (!(WORKLOADS as readonly string[]).includes(w.trim())) throw new UsageError(`unknown workload "${w.trim()}"; known: ${WORKLOADS.join(', ')}, all`);
          return w.trim() as Workload;
        });
  if (o.rate && o.clients && o.rate < Math.max(...o.clients)) throw new UsageError('--rate must be at least the largest client count (each client sends at rate / clients)');

  const plan: Plan = {
    messages: o.messages ?? (quick ? 20_000 : 100_000),
    size: o.size,
    clients: o.clients ?? (quick ? [1, 4, 16] : [1, 2, 4, 8, 16, 32, 64]),
    workers: o.workers,
    rate: o.rate,
    durationMs: Math.round((o.duration ?? (quick ? 2 : 5)) * 1000),
    warmupMs: Math.round((o.warmup ?? (quick ? 0.3 : 1)) * 1000),
    windows: o.windows ?? [1, 4, 16, 64, 256, 1024],
    respondents: o.respondents ?? [1, 2, 4, 8],
    members: o.members ?? [2, 4, 8],
    timeLimitMs: Math.round(o.timeLimit * 1000),
    fanout: o.fanout ?? [4, 16],
    fanin: o.fanin ?? [4],
    topics: o.topics ?? [100],
    ratePoints: (o.ratePoints ?? []).map((p) => p / 100),
    findMax: o.findMax,
    plain: o.plain,
    awaitPublish: o.awaitPublish,
    otel: o.otel,
  };
  const out = o.out ?? join('bench-results', new Date().toISOString().replace(/[:.]/g, '-'));
  const selection = await select(o.transport, o.baseline);
  if (selection.drivers.length === 0) throw new UsageError(`nothing can run: ${selection.skipped.join('; ')}`);

  const work: { info: DriverInfo; workload: Workload }[] = [];
  for (const workload of workloads) {
    for (const info of selection.drivers) {
      const reason = supports(info, workload);
      if (reason) selection.skipped.push(reason);
      else if (info.kind === 'raw' && !['pubsub', 'echo', 'stream', 'fanout', 'fanin'].includes(workload)) selection.skipped.push(`${info.name}: no ${workload} baseline`);
      else work.push({ info, workload });
    }
  }
  const parameters = { ...plan, sizes, workloads, transports: selection.drivers.map((d) => d.name), repeat: o.repeat, baseline: o.baseline, plain: o.plain, awaitPublish: o.awaitPublish, otel: o.otel, out };
  process.stderr.write(
    `msg-bench: ${workloads.join(', ')} on ${selection.drivers.map((d) => d.name).join(', ')}; ${plan.messages.toLocaleString('en-US')} messages of ${plan.size} B, ` +
      `clients ${plan.clients.join(',')}, ${plan.durationMs / 1000} s per point after ${plan.warmupMs / 1000} s warm-up${plan.rate ? `, open loop at ${plan.rate.toLocaleString('en-US')}/s` : ', closed loop'}` +
      `${o.repeat > 1 ? `, ${o.repeat} repetitions` : ''}\n`,
  );
  for (const s of selection.skipped) process.stderr.write(`  skipped ${s}\n`);

  const env = environment(parameters);
  const results: Result[] = [];
  const stop = new AbortController();
  const progress = progressBar();
  const runner = new Runner(plan, progress, stop.signal);
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    stop.abort();
    progress.stop();
    process.stderr.write('\nInterrupted: stopping the workers and writing what was measured (Ctrl-C again to quit at once).\n');
    void runner.workers.stopAll();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);

  for (let repetition = 1; repetition <= o.repeat && !interrupted; repetition++) {
    for (const size of sizes) {
      // A size sweep labels each point with its size, and keeps each pubsub run to 128 MiB.
      if (sizes.length > 1) runner.replan({ ...plan, size, messages: Math.max(1, Math.min(plan.messages, Math.floor((128 * 1024 * 1024) / size))), variant: `size=${sizeLabel(size)}` });
      for (const { info, workload } of o.repeat > 1 ? shuffle(work) : work) {
        if (interrupted) break;
        await runner.run(info, workload, repetition, (r) => {
          results.push(r);
          if (r.status !== 'ok') process.stderr.write(`  ${r.transport} ${label(r)}: ${r.status}: ${r.error}\n`);
        });
      }
    }
  }
  await runner.workers.stopAll();
  progress.stop();

  const notes = [...selection.notes];
  if (interrupted) notes.push('interrupted with Ctrl-C: these are the points measured before it');
  if (selection.drivers.some((d) => d.sameProcess)) notes.push('inproc runs every role in one process: it is the in-process transport');
  const rows = write(out, env, interrupted ? results.filter((r) => r.status === 'ok') : results, selection.skipped, notes);
  process.stdout.write(table(rows) + '\n');
  process.stderr.write(`Written to ${out}/ (report.md, results.json, results.csv, hgrm/, charts)\n`);
  return interrupted ? 130 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`msg-bench: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`msg-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
