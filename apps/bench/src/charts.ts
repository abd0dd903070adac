// SVG charts, written by hand: a few line and bar charts need no library. Category x axes (the
// swept values are powers of two, so evenly spaced categories read as a log scale).
import type { Result } from './results.js';
import type { Row } from './report.js';

export interface Chart {
  file: string;
  title: string;
  svg: string;
}

interface Series {
  name: string;
  values: (number | undefined)[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939'];
const W = 760;
const H = 420;
const M = { left: 80, right: 170, top: 40, bottom: 60 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : `${+n.toFixed(2)}`);

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.right / 2 + M.left / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 15}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function yScale(values: number[], log: boolean): { y: (v: number) => number; ticks: number[] } {
  const top = M.top;
  const bottom = H - M.bottom;
  const positive = values.filter((v) => v > 0);
  if (log && positive.length) {
    const lo = Math.floor(Math.log10(Math.min(...positive)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive))));
    const y = (v: number) => bottom - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (bottom - top);
    return { y, ticks: Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i)) };
  }
  const max = Math.max(1e-9, ...values) * 1.1;
  const step = 10 ** Math.floor(Math.log10(max / 5));
  const nice = [1, 2, 5, 10].map((k) => k * step).find((s) => max / s <= 6) ?? step * 10;
  const ticks = Array.from({ length: Math.floor(max / nice) + 1 }, (_, i) => i * nice);
  return { y: (v: number) => bottom - (v / (ticks.at(-1)! || 1)) * (bottom - top), ticks };
}

function axes(categories: string[], x: (i: number) => number, ticks: number[], y: (v: number) => number): string[] {
  const out = [`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`, `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`];
  for (const t of ticks) {
    out.push(`<line x1="${M.left}" y1="${y(t)}" x2="${W - M.right}" y2="${y(t)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  categories.forEach((c, i) => out.push(`<text x="${x(i)}" y="${H - M.bottom + 18}" text-anchor="middle">${esc(c)}</text>`));
  return out;
}

function legend(names: string[]): string[] {
  return names.flatMap((name, i) => {
    const y = M.top + 10 + i * 18;
    return [`<rect x="${W - M.right + 12}" y="${y - 9}" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/>`, `<text x="${W - M.right + 30}" y="${y + 1}">${esc(name)}</text>`];
  });
}

export function lineChart(title: string, xLabel: string, yLabel: string, categories: string[], series: Series[], log = false): string {
  const { y, ticks } = yScale(series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)), log);
  const span = W - M.left - M.right;
  const x = (i: number) => M.left + (categories.length === 1 ? span / 2 : 20 + (i * (span - 40)) / (categories.length - 1));
  const body = axes(categories, x, ticks, y);
  series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const points = s.values.map((v, i) => (v === undefined ? undefined : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
    const path = points.filter((p) => p !== undefined).join(' ');
    if (path.includes(' ')) body.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${path}"/>`);
    points.forEach((p) => p && body.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${colour}"/>`));
  });
  return frame(title, xLabel, yLabel + (log ? ' (log scale)' : ''), [...body, ...legend(series.map((s) => s.name))]);
}

export function barChart(title: string, yLabel: string, categories: string[], series: Series[], guides: number[]): string {
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)).concat(guides);
  const { y, ticks } = yScale(values, false);
  const span = W - M.left - M.right;
  const slot = span / Math.max(1, categories.length);
  const bar = Math.min(28, (slot * 0.8) / series.length);
  const x = (i: number) => M.left + slot * (i + 0.5);
  const body = axes(categories, x, ticks, y);
  series.forEach((s, k) =>
    s.values.forEach((v, i) => {
      if (v === undefined) return;
      const left = x(i) - (bar * series.length) / 2 + k * bar;
      body.push(`<rect x="${left.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${(H - M.bottom - y(v)).toFixed(1)}" fill="${COLOURS[k % COLOURS.length]}"><title>${esc(`${s.name} ${categories[i]}: ${v}`)}</title></rect>`);
    }),
  );
  for (const g of guides) body.push(`<line x1="${M.left}" y1="${y(g)}" x2="${W - M.right}" y2="${y(g)}" stroke="black" stroke-dasharray="5,4"/><text x="${W - M.right - 4}" y="${y(g) - 4}" text-anchor="end">${g}</text>`);
  return frame(title, '', yLabel, [...body, ...legend(series.map((s) => s.name))]);
}

/** Points against a numeric x axis: one line per series, through its points in order. */
export function xyChart(title: string, xLabel: string, yLabel: string, series: { name: string; points: { x: number; y: number; label?: string }[] }[]): string {
  const { y, ticks } = yScale(series.flatMap((s) => s.points.map((p) => p.y)), true);
  const xs = yScale(series.flatMap((s) => s.points.map((p) => p.x)), false);
  const span = W - M.left - M.right;
  const xMax = xs.ticks.at(-1) || 1;
  const x = (v: number) => M.left + (v / xMax) * span;
  const body = axes([], x, ticks, y);
  for (const t of xs.ticks) body.push(`<text x="${x(t).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${fmt(t)}</text>`);
  series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const points = s.points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`);
    if (points.length > 1) body.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    s.points.forEach((p, i) => body.push(`<circle cx="${points[i]!.split(',')[0]}" cy="${points[i]!.split(',')[1]}" r="3" fill="${colour}"><title>${esc(`${s.name} ${p.label ?? ''}: ${fmt(p.x)}/s, p99 ${fmt(p.y)} µs`)}</title></circle>`));
  });
  return frame(title, xLabel, yLabel + ' (log scale)', [...body, ...legend(series.map((s) => s.name))]);
}

const sizeOf = (r: Row) => (r.variant ?? '').split(' ').filter((v) => v.startsWith('size=')).join(' ');

const pointName: Record<string, string> = { echo: 'clients', stream: 'in-flight window', survey: 'respondents', bus: 'members', fanout: 'subscribers', fanin: 'publishers', topics: 'topics' };
const rateName: Record<string, string> = { echo: 'requests/s', stream: 'requests/s', survey: 'answers/s', bus: 'delivered msg/s', fanout: 'delivered msg/s', fanin: 'received msg/s', topics: 'received msg/s' };

export function charts(rows: readonly Row[], results: readonly Result[]): Chart[] {
  const out: Chart[] = [];
  const measured = rows.filter((r) => r.status === 'ok' || r.recvRate > 0);
  // The swept charts show the closed-loop points of the first payload size; the others have charts of their own.
  const firstSize = measured.length ? sizeOf(measured[0]!) : '';
  const ok = measured.filter((r) => (r.load === undefined || r.load === 1) && !(r.variant ?? '').includes('max-sustainable') && sizeOf(r) === firstSize);

  // Latency against throughput (echo): the closed-loop maximum and the fixed-rate points below it,
  // per client count; the knee is where p99 turns up.
  const loaded = measured.filter((r) => r.workload === 'echo' && r.load !== undefined && sizeOf(r) === firstSize);
  for (const clients of [...new Set(loaded.filter((r) => r.load !== 1).map((r) => r.point?.value ?? 0))]) {
    const these = loaded.filter((r) => (r.point?.value ?? 0) === clients);
    const transports = [...new Set(these.map((r) => r.transport))];
    const title = `echo, ${clients} client${clients > 1 ? 's' : ''}: p99 latency against throughput`;
    const series = transports.map((t) => ({
      name: t,
      points: these
        .filter((r) => r.transport === t)
        .sort((a, b) => a.load! - b.load!)
        .map((r) => ({ x: r.recvRate, y: Math.max(1, r.p99), label: r.load === 1 ? 'closed loop' : `${Math.round(r.load! * 100)} %` })),
    }));
    out.push({ file: `echo-latency-vs-throughput-c${clients}.svg`, title, svg: xyChart(title, 'requests/s achieved', 'p99 µs from the intended send', series) });
  }

  // Payload sweep: MB/s and p50 against the payload size.
  const sizes = [...new Set(measured.map(sizeOf).filter(Boolean))];
  if (sizes.length > 1) {
    for (const workload of ['pubsub', 'echo']) {
      const these = measured.filter((r) => r.workload === workload && (r.load === undefined || r.load === 1) && (!r.point || r.point.value === Math.min(...measured.filter((o) => o.workload === workload).map((o) => o.point?.value ?? 0))));
      if (these.length === 0) continue;
      const transports = [...new Set(these.map((r) => r.transport))];
      const seriesOf = (f: (r: Row) => number) => transports.map((t) => ({ name: t, values: sizes.map((s) => these.find((r) => r.transport === t && sizeOf(r) === s)).map((r) => (r ? f(r) : undefined)) }));
      const labels = sizes.map((s) => s.slice(5));
      out.push({ file: `${workload}-size-throughput.svg`, title: `${workload}: MB/s against payload size`, svg: lineChart(`${workload}: MB/s against payload size`, 'payload', 'MB/s', labels, seriesOf((r) => r.mbps), true) });
      out.push({ file: `${workload}-size-p50.svg`, title: `${workload}: p50 latency against payload size`, svg: lineChart(`${workload}: p50 latency against payload size`, 'payload', 'p50 µs', labels, seriesOf((r) => Math.max(1, r.p50)), true) });
    }
  }

  // Throughput (and p99) against the swept parameter, one line per transport.
  for (const workload of ['echo', 'stream', 'survey', 'bus', 'fanout', 'fanin', 'topics']) {
    const these = ok.filter((r) => r.workload === workload && r.point);
    if (these.length === 0) continue;
    const values = [...new Set(these.map((r) => r.point!.value))].sort((a, b) => a - b);
    const transports = [...new Set(these.map((r) => r.transport))];
    const seriesOf = (f: (r: Row) => number) => transports.map((t) => ({ name: t, values: values.map((v) => these.find((r) => r.transport === t && r.point!.value === v)).map((r) => (r ? f(r) : undefined)) }));
    out.push({ file: `${workload}-throughput.svg`, title: `${workload}: throughput against ${pointName[workload]}`, svg: lineChart(`${workload}: throughput against ${pointName[workload]}`, pointName[workload]!, rateName[workload]!, values.map(String), seriesOf((r) => r.recvRate), true) });
    out.push({ file: `${workload}-p99.svg`, title: `${workload}: p99 latency against ${pointName[workload]}`, svg: lineChart(`${workload}: p99 latency against ${pointName[workload]}`, pointName[workload]!, 'p99 µs', values.map(String), seriesOf((r) => r.p99), true) });
  }

  // Latency percentiles per transport, for pubsub and for echo at its first client count.
  for (const workload of ['pubsub', 'echo']) {
    const these = ok.filter((r) => r.workload === workload && (!r.point || r.point.value === Math.min(...ok.filter((o) => o.workload === workload).map((o) => o.point?.value ?? 0))));
    if (these.length === 0) continue;
    const labels = ['p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max'];
    const series = these.map((r) => ({ name: r.transport, values: [r.p50, r.p90, r.p99, r.p999, r.p9999, r.max] }));
    const title = `${workload}${these[0]!.point ? ` (${these[0]!.point.name}=${these[0]!.point.value})` : ''}: latency percentiles per transport`;
    out.push({ file: `${workload}-percentiles.svg`, title, svg: lineChart(title, 'percentile', 'latency µs', labels, series, true) });
  }

  // Latency against message count (pubsub), from the first repetition of each transport.
  const sliced = results.filter((r) => r.workload === 'pubsub' && r.status === 'ok' && r.slices && r.repetition === 1);
  if (sliced.length) {
    const labels = sliced[0]!.slices!.map((s) => fmt(s.upTo));
    out.push({
      file: 'pubsub-latency-by-count.svg',
      title: 'pubsub: p99 latency against message count',
      svg: lineChart('pubsub: p99 latency against message count', 'messages sent (slice up to)', 'p99 µs', labels, sliced.map((r) => ({ name: r.transport, values: r.slices!.map((s) => (s.count ? s.p99 : undefined)) })), true),
    });
  }

  // Adapter against raw: throughput and p99 ratios, with the targets.
  const compared = rows.filter((r) => r.vsRaw);
  if (compared.length) {
    const labels = compared.map((r) => `${r.transport} ${r.workload}${r.point ? ` ${r.point.value}` : ''}`);
    out.push({
      file: 'adapter-vs-raw.svg',
      title: 'adapter against its raw client (throughput ≥ 0.9, p99 ≤ 1.1)',
      svg: barChart('adapter against its raw client', 'adapter / raw', labels, [
        { name: 'throughput', values: compared.map((r) => r.vsRaw!.throughput) },
        { name: 'p99 latency', values: compared.map((r) => r.vsRaw!.p99) },
      ], [0.9, 1.1]),
    });
  }

  // Every transport as a fraction of plain TCP.
  const vsTcp = rows.filter((r) => r.vsTcp !== undefined);
  if (vsTcp.length) {
    const labels = [...new Set(vsTcp.map((r) => `${r.workload}${r.point ? ` ${r.point.value}` : ''}`))];
    const transports = [...new Set(vsTcp.map((r) => r.transport))];
    out.push({
      file: 'vs-tcp.svg',
      title: 'throughput as a fraction of plain TCP',
      svg: barChart('throughput as a fraction of plain TCP', 'transport / tcp', labels, transports.map((t) => ({ name: t, values: labels.map((l) => vsTcp.find((r) => r.transport === t && `${r.workload}${r.point ? ` ${r.point.value}` : ''}` === l)?.vsTcp) })), [1]),
    });
  }
  return out;
}
