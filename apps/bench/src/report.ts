// What a run leaves behind: a table on stdout, and in the output directory JSON with every figure,
// CSV, .hgrm percentile spectra, SVG charts and one Markdown report that shows them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from './results.js';
import { AWAITED, OTEL, PLAIN, label } from './results.js';
import { spectrum } from './histogram.js';
import { charts } from './charts.js';

export interface Environment {
  startedAt: string;
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  memoryGB: number;
  commit: string;
  parameters: Record<string, unknown>;
}

/** One line per transport × workload × point: the median over repetitions, with its spread. */
export interface Row {
  transport: string;
  kind: string;
  baselineOf?: string;
  peerOf?: string;
  semantics?: string;
  workload: string;
  point?: { name: string; value: number };
  /** The payload size in a sweep, the offered load (`load=50%`), `max-sustainable`. */
  variant?: string;
  /** echo: the fraction of the closed-loop maximum offered (1 for the maximum itself), and that rate. */
  load?: number;
  offeredRate?: number;
  repetitions: number;
  status: string;
  error?: string;
  sendRate: number;
  recvRate: number;
  recvRateMin: number;
  recvRateMax: number;
  mbps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
  p99Min: number;
  p99Max: number;
  uncorrectedP99?: number;
  sendDelayP99?: number;
  lost: number;
  duplicated: number;
  reordered: number;
  failed: number;
  /** Received rate over plain TCP's on the same point. */
  vsTcp?: number;
  /** For an adapter: its throughput and p99 over its raw client's. */
  vsRaw?: { throughput: number; p99: number };
  /** With --plain: received rate over the same transport's run with no instrumentation (the harness's cost). */
  vsPlain?: number;
  /** With --otel, on an otel row: received rate over the same transport's run without instrumentation. */
  vsOff?: number;
  /** echo, for an adapter: its requests/s over each peer's on the same broker and point, by peer. */
  vsPeers?: Record<string, number>;
  cpuPercent: number;
  peakRssMB: number;
  loopDelayP99Ms: number;
  gcMs: number;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const keyOf = (r: { workload: string; point?: { name: string; value: number } | undefined }) => label(r);
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : undefined);

export function rows(results: readonly Result[]): Row[] {
  const groups = new Map<string, Result[]>();
  for (const r of results) {
    const key = `${r.transport}\u0000${keyOf(r)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: Row[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const ok = group.filter((r) => r.status === 'ok');
    const m = (f: (r: Result) => number | undefined) => Math.round(median(ok.map(f).filter((v): v is number => v !== undefined)) * 10) / 10;
    const rates = ok.map((r) => r.receiverRate ?? 0);
    const p99s = ok.map((r) => r.latency?.p99 ?? 0);
    const procs = ok.flatMap((r) => r.processes);
    out.push({
      transport: first.transport,
      kind: first.kind,
      baselineOf: first.baselineOf,
      peerOf: first.peerOf,
      semantics: first.semantics,
      workload: first.workload,
      point: first.point,
      variant: first.variant,
      load: first.load,
      offeredRate: ok.some((r) => r.rate !== undefined) ? m((r) => r.rate) : undefined,
      repetitions: group.length,
      status: ok.length === group.length ? 'ok' : ok.length > 0 ? `${group.length - ok.length} failed` : first.status,
      error: group.find((r) => r.error)?.error,
      sendRate: m((r) => r.senderRate),
      recvRate: m((r) => r.receiverRate),
      recvRateMin: Math.min(...rates, Infinity) === Infinity ? 0 : Math.min(...rates),
      recvRateMax: Math.max(0, ...rates),
      mbps: m((r) => r.receiverMBps),
      p50: m((r) => r.latency?.p50),
      p90: m((r) => r.latency?.p90),
      p99: m((r) => r.latency?.p99),
      p999: m((r) => r.latency?.p999),
      p9999: m((r) => r.latency?.p9999),
      max: m((r) => r.latency?.max),
      p99Min: p99s.length ? Math.min(...p99s) : 0,
      p99Max: Math.max(0, ...p99s),
      uncorrectedP99: ok.some((r) => r.uncorrected) ? m((r) => r.uncorrected?.p99) : undefined,
      sendDelayP99: ok.some((r) => r.sendDelay) ? m((r) => r.sendDelay?.p99) : undefined,
      lost: m((r) => r.lost),
      duplicated: m((r) => r.duplicated),
      reordered: m((r) => r.reordered ?? r.outOfOrder),
      failed: m((r) => r.failed),
      cpuPercent: Math.round(median(procs.map((p) => p.cpuPercent))),
      peakRssMB: Math.round(Math.max(0, ...procs.map((p) => p.peakRssMB))),
      loopDelayP99Ms: Math.round(Math.max(0, ...procs.map((p) => p.eventLoopDelay.p99)) * 10) / 10,
      gcMs: Math.round(median(procs.map((p) => p.gc.totalMs))),
    });
  }
  // Workload, then point, then tcp, the adapters (each followed by its peers) and the raw clients, each
  // in order of first appearance. A peer whose adapter did not run stands among the adapters.
  const transports = [...new Set(out.map((r) => r.transport))];
  const workloads = [...new Set(out.map((r) => r.workload))];
  const place = (r: Row): number[] => {
    const at = transports.indexOf(r.transport);
    if (r.kind === 'tcp') return [0, 0, 0];
    if (r.kind === 'raw') return [2, at, 0];
    if (r.kind === 'peer' && r.peerOf && transports.includes(r.peerOf)) return [1, transports.indexOf(r.peerOf), 1 + at];
    return [1, at, 0];
  };
  const byPlace = (a: Row, b: Row) => {
    const [pa, pb] = [place(a), place(b)];
    return pa[0]! - pb[0]! || pa[1]! - pb[1]! || pa[2]! - pb[2]!;
  };
  out.sort((a, b) => workloads.indexOf(a.workload) - workloads.indexOf(b.workload) || (a.point?.value ?? 0) - (b.point?.value ?? 0) || (a.variant ?? '').localeCompare(b.variant ?? '') || byPlace(a, b));
  for (const row of out) {
    const tcp = out.find((o) => o.transport === 'tcp' && keyOf(o) === keyOf(row) && o.status === 'ok');
    if (tcp && row.transport !== 'tcp' && row.status === 'ok') row.vsTcp = ratio(row.recvRate, tcp.recvRate);
    // An awaiting publisher is held against the raw client going flat out: publishes per second.
    const awaited = row.variant === AWAITED && out.find((o) => o.baselineOf === row.transport && o.variant === undefined && label({ ...o, variant: row.variant }) === keyOf(row) && o.status === 'ok');
    if (awaited && row.status === 'ok') {
      const throughput = ratio(row.sendRate, awaited.sendRate);
      if (throughput !== undefined) row.vsRaw = { throughput, p99: 0 };
    }
    const raw = out.find((o) => o.baselineOf === row.transport && keyOf(o) === keyOf(row) && o.status === 'ok');
    if (raw && row.kind === 'adapter' && row.status === 'ok') {
      const throughput = ratio(row.recvRate, raw.recvRate);
      const p99 = ratio(row.p99, raw.p99);
      if (throughput !== undefined && p99 !== undefined) row.vsRaw = { throughput, p99 };
    }
    const plain = row.variant === undefined && out.find((o) => o.transport === row.transport && o.variant === PLAIN && label({ ...o, variant: undefined }) === keyOf(row) && o.status === 'ok');
    if (plain && row.status === 'ok') row.vsPlain = ratio(row.recvRate, plain.recvRate);
    const off = row.variant === OTEL && out.find((o) => o.transport === row.transport && o.variant === undefined && label({ ...o, variant: OTEL }) === keyOf(row) && o.status === 'ok');
    if (off && row.status === 'ok') row.vsOff = ratio(row.recvRate, off.recvRate);
    // Closed loop only: at a fixed offered rate both sides would just show that rate.
    if (row.kind === 'adapter' && row.workload === 'echo' && row.offeredRate === undefined && row.status === 'ok') {
      for (const peer of out.filter((o) => o.peerOf === row.transport && keyOf(o) === keyOf(row) && o.status === 'ok')) {
        const over = ratio(row.recvRate, peer.recvRate);
        if (over !== undefined) (row.vsPeers ??= {})[peer.transport] = over;
      }
    }
  }
  return out;
}

/** The swept parameter and whatever else sets the point apart (size, offered load). */
const pointOf = (r: Row) => [r.point ? `${r.point.name}=${r.point.value}` : '', r.variant ?? ''].filter(Boolean).join(' ');

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const us = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}ms` : `${Math.round(n)}`);

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

const HEAD = ['transport', 'workload', 'point', 'sent/s', 'recv/s', 'MB/s', 'p50µs', 'p99µs', 'p99.9µs', 'maxµs', 'lost/dup/reord', '×tcp', '×raw thr/p99', '×plain', '×off'];

function cells(row: Row): string[] {
  const point = pointOf(row);
  if (row.status !== 'ok' && row.recvRate === 0) return [row.transport, row.workload, point, row.status, (row.error ?? '').slice(0, 70), '', '', '', '', '', '', '', '', '', ''];
  // A plain run records no latency: its latency cells stay empty rather than show zeros.
  const timed = row.variant !== PLAIN;
  return [
    row.transport,
    row.workload,
    point,
    int(row.sendRate),
    int(row.recvRate) + (row.repetitions > 1 ? ` (${int(row.recvRateMin)}–${int(row.recvRateMax)})` : ''),
    row.mbps.toFixed(1),
    timed ? us(row.p50) : '',
    timed ? us(row.p99) : '',
    timed ? us(row.p999) : '',
    timed ? us(row.max) : '',
    `${row.lost}/${row.duplicated}/${row.reordered}`,
    row.vsTcp === undefined ? '' : row.vsTcp.toFixed(2),
    row.vsRaw ? (timed && row.variant !== AWAITED ? `${row.vsRaw.throughput.toFixed(2)}/${row.vsRaw.p99.toFixed(2)}` : `${row.vsRaw.throughput.toFixed(2)} sent`) : '',
    row.vsPlain === undefined ? '' : row.vsPlain.toFixed(2),
    row.vsOff === undefined ? '' : row.vsOff.toFixed(2),
  ];
}

const PEERS_NOTE = 'msg adapter req/s over each peer\'s, echo closed loop (the issue\'s targets at 16 and 64 clients: ≥ 1.0 over Moleculer, ≥ 1.5 over NestJS; reported, never asserted)';

/** The echo ratios of each adapter over its peers, one line per adapter and point. */
function peerRatios(all: readonly Row[]): { point: string; adapter: string; ratios: string }[] {
  return all
    .filter((r) => r.vsPeers)
    .map((r) => ({ point: pointOf(r), adapter: r.transport, ratios: Object.entries(r.vsPeers!).map(([peer, over]) => `×${peer} ${over.toFixed(2)}`).join(', ') }));
}

/** The table, the adapters over their peers, then the delivery semantics of each transport in it. */
export function table(all: readonly Row[]): string {
  const semantics = new Map(all.filter((r) => r.semantics).map((r) => [r.transport, r.semantics!]));
  const legend = [...semantics].map(([transport, s]) => `  ${transport}: ${s}`);
  const peers = peerRatios(all);
  return (
    pad([HEAD, ...all.map(cells)]) +
    (all.some((r) => r.variant === AWAITED) ? '\n\nawaited: the publisher awaits each publish; ×raw is its publishes/s over the raw client publishing flat out.' : '') +
    (peers.length ? `\n\n${PEERS_NOTE}:\n${pad(peers.map((p) => [`  ${p.point}`, p.adapter, p.ratios])).replace(/ +$/gm, '')}` : '') +
    (legend.length ? `\n\ndelivery semantics:\n${legend.join('\n')}` : '')
  );
}

function markdownTable(head: string[], body: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function csv(all: readonly Row[]): string {
  const head = ['transport', 'kind', 'baseline_of', 'semantics', 'workload', 'point', 'value', 'repetitions', 'status', 'send_rate', 'recv_rate', 'recv_rate_min', 'recv_rate_max', 'mb_per_s', 'p50_us', 'p90_us', 'p99_us', 'p999_us', 'p9999_us', 'max_us', 'uncorrected_p99_us', 'send_delay_p99_us', 'lost', 'duplicated', 'reordered', 'failed', 'vs_tcp', 'vs_raw_throughput', 'vs_raw_p99', 'vs_plain', 'vs_off', 'cpu_percent', 'peak_rss_mb', 'loop_delay_p99_ms', 'gc_ms', 'error'];
  const quote = (v: unknown) => (v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = all.map((r) =>
    [r.transport, r.kind, r.baselineOf, r.semantics, r.workload, r.point?.name, r.point?.value, r.repetitions, r.status, r.sendRate, r.recvRate, r.recvRateMin, r.recvRateMax, r.mbps, r.p50, r.p90, r.p99, r.p999, r.p9999, r.max, r.uncorrectedP99, r.sendDelayP99, r.lost, r.duplicated, r.reordered, r.failed, r.vsTcp, r.vsRaw?.throughput, r.vsRaw?.p99, r.vsPlain, r.vsOff, r.cpuPercent, r.peakRssMB, r.loopDelayP99Ms, r.gcMs, r.error]
      .map(quote)
      .join(','),
  );
  return [head.join(','), ...lines].join('\n') + '\n';
}

function markdown(env: Environment, all: readonly Row[], results: readonly Result[], skipped: readonly string[], chartFiles: { file: string; title: string }[], notes: readonly string[]): string {
  const parts = [
    `# msg bench, ${env.startedAt}`,
    '',
    `Node ${env.node} on ${env.platform}, ${env.cpu} (${env.cores} cores, ${env.memoryGB} GB), commit ${env.commit}.`,
    '',
    '```',
    JSON.stringify(env.parameters),
    '```',
    '',
    ...(skipped.length ? ['Skipped:', '', ...skipped.map((s) => `- ${s}`), ''] : []),
    ...(notes.length ? ['Notes:', '', ...notes.map((s) => `- ${s}`), ''] : []),
    '## Results',
    '',
    'Latency in µs from the intended send time (corrected for coordinated omission); with `--rate` the uncorrected p99 (from the actual send) and the send delay p99 are beside it. Throughput is the median over repetitions, (min–max) when there were several. ×tcp: received rate over plain TCP on the same point; ×raw: the adapter over its raw client, throughput and p99 (target: ≥ 0.9 and ≤ 1.1); ×off (with `--otel`): the rate of a row instrumented with @msg/otel over the same transport without it.',
    '',
    markdownTable(
      ['transport', 'delivery', 'workload', 'point', 'sent/s', 'recv/s', 'MB/s', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'p99 uncorr.', 'send delay p99', 'lost/dup/reord', 'failed', '×tcp', '×raw thr/p99', 'status'],
      all.map((r) => [
        r.transport,
        r.semantics ?? '',
        r.workload,
        pointOf(r),
        int(r.sendRate),
        int(r.recvRate) + (r.repetitions > 1 ? ` (${int(r.recvRateMin)}–${int(r.recvRateMax)})` : ''),
        String(r.mbps),
        String(r.p50),
        String(r.p90),
        String(r.p99),
        String(r.p999),
        String(r.p9999),
        String(r.max),
        r.uncorrectedP99 === undefined ? '' : String(r.uncorrectedP99),
        r.sendDelayP99 === undefined ? '' : String(r.sendDelayP99),
        `${r.lost}/${r.duplicated}/${r.reordered}`,
        String(r.failed),
        r.vsTcp === undefined ? '' : String(r.vsTcp),
        r.vsRaw ? `${r.vsRaw.throughput} / ${r.vsRaw.p99}` : '',
        r.status === 'ok' ? 'ok' : `${r.status}: ${(r.error ?? '').replace(/\|/g, '/')}`,
      ]),
    ),
    '',
    ...(all.some((r) => r.vsPeers) ? ['## msg over its peers', '', `${PEERS_NOTE}.`, '', markdownTable(['point', 'adapter', 'over its peers'], peerRatios(all).map((p) => [p.point, p.adapter, p.ratios])), ''] : []),
    '## The machine while measuring',
    '',
    'Per point, over every process of the run (publisher, subscriber, server, clients): median CPU (percent of one core), peak RSS, worst event-loop delay p99, median GC time.',
    '',
    markdownTable(
      ['transport', 'workload', 'point', 'CPU %', 'peak RSS MB', 'loop delay p99 ms', 'GC ms'],
      all.map((r) => [r.transport, r.workload, pointOf(r), String(r.cpuPercent), String(r.peakRssMB), String(r.loopDelayP99Ms), String(r.gcMs)]),
    ),
    '',
    '## Charts',
    '',
    ...chartFiles.flatMap((c) => [`### ${c.title}`, '', `![${c.title}](${c.file})`, '']),
    '## Percentile spectra',
    '',
    `Full spectra (HdrHistogram \`.hgrm\` text, µs) are in \`hgrm/\`: ${results.filter((r) => r.histograms.corrected).length} corrected, ${results.filter((r) => r.histograms.uncorrected).length} uncorrected.`,
    '',
  ];
  return parts.join('\n');
}

export function write(dir: string, env: Environment, results: readonly Result[], skipped: readonly string[], notes: readonly string[]): Row[] {
  mkdirSync(join(dir, 'hgrm'), { recursive: true });
  const all = rows(results);
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ environment: env, skipped, notes, rows: all, results }, null, 2) + '\n');
  writeFileSync(join(dir, 'results.csv'), csv(all));
  for (const r of results) {
    const name = `${r.transport}-${label(r).replace(/[ =]/g, '-')}-rep${r.repetition}`;
    if (r.histograms.corrected) writeFileSync(join(dir, 'hgrm', `${name}.corrected.hgrm`), spectrum(r.histograms.corrected));
    if (r.histograms.uncorrected) writeFileSync(join(dir, 'hgrm', `${name}.uncorrected.hgrm`), spectrum(r.histograms.uncorrected));
  }
  const chartFiles = charts(all, results).map((c) => {
    writeFileSync(join(dir, c.file), c.svg);
    return { file: c.file, title: c.title };
  });
  writeFileSync(join(dir, 'report.md'), markdown(env, all, results, skipped, chartFiles, notes));
  return all;
}
