// Runs the built bench as a subprocess on the transports that need no server, with tiny counts, and
// checks what it wrote: files exist and the counts add up. Never timings.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answers } from '../src/drivers/ports.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const run = promisify(execFile);
const dirs: string[] = [];

interface Row {
  transport: string;
  workload: string;
  variant?: string;
  vsPlain?: number;
  vsOff?: number;
  point?: { name: string; value: number };
  status: string;
  recvRate: number;
  p50: number;
  p99: number;
  max: number;
  lost: number;
  duplicated: number;
  vsPeers?: Record<string, number>;
}
interface Output {
  environment: { node: string; cores: number; parameters: Record<string, unknown> };
  rows: Row[];
  results: { transport: string; workload: string; status: string; sent?: number; received?: number; lost?: number; duplicated?: number; histograms: { corrected?: string } }[];
}

async function bench(...args: string[]): Promise<{ out: string; stdout: string; json: Output }> {
  const out = mkdtempSync(join(tmpdir(), 'msg-bench-smoke-'));
  dirs.push(out);
  const { stdout } = await run(process.execPath, [MAIN, '--transport', 'inproc,tcp', '--size', '64', '--warmup', '0.1', '--out', out, ...args], { timeout: 90_000 });
  return { out, stdout, json: JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Output };
}

// The workers are forked from dist/, so test what is built from the current source.
beforeAll(async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))], { timeout: 60_000 });
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('bench smoke', () => {
  it('--plain › runs pubsub and echo again with no instrumentation and puts the ratio beside each figure', async () => {
    const { stdout, json } = await bench('--workload', 'pubsub,echo', '--messages', '500', '--clients', '1', '--duration', '0.3', '--plain');
    for (const transport of ['inproc', 'tcp']) {
      for (const workload of ['pubsub', 'echo']) {
        const plain = json.rows.find((r) => r.transport === transport && r.workload === workload && r.variant === 'plain');
        const measured = json.rows.find((r) => r.transport === transport && r.workload === workload && r.variant === undefined);
        expect(plain?.status, `${transport} ${workload} plain`).toBe('ok');
        expect(plain!.recvRate).toBeGreaterThan(0);
        expect(measured?.vsPlain, `${transport} ${workload} ×plain`).toBeCloseTo(measured!.recvRate / plain!.recvRate, 1);
      }
    }
    const pubsubPlain = json.rows.find((r) => r.transport === 'tcp' && r.workload === 'pubsub' && r.variant === 'plain')!;
    expect(pubsubPlain.lost).toBe(0);
    expect(stdout).toMatch(/×plain/);
  });

  it('--otel › runs pubsub and echo again on the adapters instrumented with @msg/otel, with the ratio to the run without', async () => {
    const { stdout, json } = await bench('--workload', 'pubsub,echo', '--messages', '500', '--clients', '1', '--duration', '0.3', '--otel');
    for (const workload of ['pubsub', 'echo']) {
      const traced = json.rows.find((r) => r.transport === 'inproc' && r.workload === workload && r.variant === 'otel');
      const off = json.rows.find((r) => r.transport === 'inproc' && r.workload === workload && r.variant === undefined);
      expect(traced?.status, `inproc ${workload} otel`).toBe('ok');
      expect(traced!.recvRate).toBeGreaterThan(0);
      expect(traced?.vsOff, `inproc ${workload} ×off`).toBeCloseTo(traced!.recvRate / off!.recvRate, 1);
    }
    expect(json.rows.find((r) => r.transport === 'inproc' && r.workload === 'pubsub' && r.variant === 'otel')?.lost).toBe(0);
    // tcp is no adapter: nothing to instrument.
    expect(json.rows.filter((r) => r.transport === 'tcp' && r.variant === 'otel')).toEqual([]);
    expect(stdout).toMatch(/×off/);
  });

  it('pubsub › delivers every message once on inproc and tcp, and writes every output file', async () => {
    const { out, stdout, json } = await bench('--workload', 'pubsub', '--messages', '500');
    for (const file of ['report.md', 'results.csv', 'results.json', 'pubsub-percentiles.svg', 'vs-tcp.svg']) expect(existsSync(join(out, file)), file).toBe(true);
    expect(existsSync(join(out, 'hgrm', 'inproc-pubsub-rep1.corrected.hgrm'))).toBe(true);
    expect(json.environment.node).toBe(process.version);
    expect(json.environment.parameters.messages).toBe(500);
    for (const transport of ['inproc', 'tcp']) {
      const result = json.results.find((r) => r.transport === transport)!;
      expect(result.status).toBe('ok');
      expect(result.sent).toBe(500);
      expect((result.received ?? 0) + (result.lost ?? 0)).toBe(500);
      expect(result.lost).toBe(0);
      expect(result.duplicated).toBe(0);
      const row = json.rows.find((r) => r.transport === transport)!;
      expect(row.p50).toBeLessThanOrEqual(row.p99);
      expect(row.p99).toBeLessThanOrEqual(row.max);
      expect(row.recvRate).toBeGreaterThan(0);
      expect(stdout).toContain(transport);
    }
    expect(readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('echo › measures each client count, open loop included', async () => {
    const { json } = await bench('--workload', 'echo', '--clients', '1,2', '--duration', '0.3', '--rate', '400');
    const rows = json.rows.filter((r) => r.workload === 'echo');
    expect(rows.map((r) => `${r.transport}:${r.point?.value}`).sort()).toEqual(['inproc:1', 'inproc:2', 'tcp:1', 'tcp:2']);
    for (const row of rows) {
      expect(row.status).toBe('ok');
      expect(row.recvRate).toBeGreaterThan(0);
    }
  });

  it('stream, survey and bus › run on inproc; tcp is skipped where it has no such pattern', async () => {
    const { json } = await bench('--workload', 'stream,survey,bus', '--duration', '0.2', '--windows', '1,8', '--respondents', '2', '--members', '3', '--messages', '300');
    const ok = (workload: string, transport: string) => json.rows.filter((r) => r.workload === workload && r.transport === transport && r.status === 'ok');
    expect(ok('stream', 'inproc')).toHaveLength(2);
    expect(ok('stream', 'tcp')).toHaveLength(2);
    expect(ok('survey', 'inproc')).toHaveLength(1);
    const bus = json.results.find((r) => r.workload === 'bus' && r.transport === 'inproc')!;
    expect(bus.status).toBe('ok');
    expect(bus.received).toBe(100 * 3 * 2);
    expect(bus.duplicated).toBe(0);
    expect(json.rows.some((r) => r.workload === 'survey' && r.transport === 'tcp')).toBe(false);
  });

  it('survey and bus › run on zmq and nanomsg, whose members find each other across links', async () => {
    const out = mkdtempSync(join(tmpdir(), 'msg-bench-smoke-'));
    dirs.push(out);
    await run(process.execPath, [MAIN, '--transport', 'zmq,nanomsg', '--workload', 'survey,bus', '--size', '64', '--warmup', '0.1', '--duration', '0.2', '--respondents', '2', '--members', '3', '--messages', '300', '--out', out], { timeout: 90_000 });
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Output;
    for (const transport of ['zmq', 'nanomsg']) {
      const survey = json.results.find((r) => r.workload === 'survey' && r.transport === transport)!;
      expect(survey.status, `${transport} survey`).toBe('ok');
      const bus = json.results.find((r) => r.workload === 'bus' && r.transport === transport)!;
      expect(bus.status, `${transport} bus`).toBe('ok');
      expect(bus.received).toBe(100 * 3 * 2);
      expect(bus.duplicated).toBe(0);
    }
  });

  it('payload sweep › labels every point with its size and delivers every message at each', async () => {
    const { json } = await bench('--workload', 'pubsub', '--sizes', '64,1024', '--messages', '300');
    for (const transport of ['inproc', 'tcp']) {
      const points = json.rows.filter((r) => r.transport === transport).map((r) => (r as { variant?: string }).variant);
      expect(points.sort()).toEqual(['size=1KiB', 'size=64B']);
    }
    for (const result of json.results) expect(result.lost, `${result.transport}`).toBe(0);
  });

  it('echo › fixed-rate points below the maximum, the max-sustainable search and the latency-against-throughput chart', async () => {
    const { out, json } = await bench('--workload', 'echo', '--clients', '1', '--duration', '0.3', '--rate-points', '25,50', '--find-max');
    for (const transport of ['inproc', 'tcp']) {
      const rows = json.rows.filter((r) => r.transport === transport) as (Row & { variant?: string; load?: number; offeredRate?: number })[];
      expect(rows.map((r) => r.variant ?? 'closed loop').sort()).toEqual(['closed loop', 'load=25%', 'load=50%', 'max-sustainable']);
      const max = rows.find((r) => !r.variant)!;
      const quarter = rows.find((r) => r.variant === 'load=25%')!;
      expect(quarter.offeredRate).toBe(Math.max(1, Math.round(max.recvRate * 0.25)));
      expect(quarter.status).toBe('ok');
    }
    const search = json.results.find((r) => (r as { variant?: string }).variant === 'max-sustainable') as { trials?: { rate: number; kept: boolean }[] };
    expect(search.trials?.length).toBeGreaterThan(0);
    expect(search.trials!.length).toBeLessThanOrEqual(7);
    expect(existsSync(join(out, 'echo-latency-vs-throughput-c1.svg'))).toBe(true);
  });

  it('fanout, fanin and topics › every subscriber gets every message; tcp runs fan-in only', async () => {
    const { json } = await bench('--workload', 'fanout,fanin,topics', '--messages', '300', '--fanout', '3', '--fanin', '2', '--topics', '7');
    const result = (workload: string, transport: string) => json.results.find((r) => r.workload === workload && r.transport === transport);
    expect(result('fanout', 'inproc')?.received).toBe(900);
    expect(result('fanin', 'inproc')?.received).toBe(300);
    expect(result('fanin', 'tcp')?.received).toBe(300);
    expect(result('topics', 'inproc')?.received).toBe(300);
    for (const r of json.results) {
      expect(r.status).toBe('ok');
      expect(r.lost).toBe(0);
      expect(r.duplicated).toBe(0);
    }
    expect(result('fanout', 'tcp')).toBeUndefined();
    expect(json.rows.every((r) => typeof (r as { semantics?: string }).semantics === 'string')).toBe(true);
  });

  it('peers › NestJS and Moleculer answer echo beside the adapter of their broker, with its ratio over them, and skip pubsub saying why', async ({ skip }) => {
    for (const [what, port] of [['NATS', 4222], ['Redis', 6379]] as const) {
      if (await answers('127.0.0.1', port)) continue;
      const reason = `${what} is not reachable at 127.0.0.1:${port}; start it with \`pnpm brokers up\``;
      if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${reason} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
      console.warn(`\n*** SKIPPING: ${reason} ***\n`);
      return skip(reason);
    }
    const out = mkdtempSync(join(tmpdir(), 'msg-bench-smoke-'));
    dirs.push(out);
    const transports = ['nats', 'nestjs-nats', 'moleculer-nats', 'redis', 'nestjs-redis', 'moleculer-redis'];
    const { stdout } = await run(process.execPath, [MAIN, '--transport', transports.join(','), '--workload', 'echo,pubsub', '--clients', '1,2', '--duration', '0.3', '--size', '64', '--warmup', '0.1', '--messages', '200', '--out', out], { timeout: 90_000 });
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Output & { skipped: string[] };
    const peers = { nats: ['nestjs-nats', 'moleculer-nats'], redis: ['nestjs-redis', 'moleculer-redis'] };
    for (const clients of [1, 2]) {
      const echo = json.rows.filter((r) => r.workload === 'echo' && r.point?.value === clients);
      // tcp first, then each adapter followed by its own peers.
      expect(echo.map((r) => r.transport)).toEqual(['tcp', ...transports]);
      for (const [adapter, theirs] of Object.entries(peers)) {
        const row = echo.find((r) => r.transport === adapter)!;
        expect(row.status, `${adapter} ×${clients}`).toBe('ok');
        for (const peer of theirs) {
          const peerRow = echo.find((r) => r.transport === peer)!;
          expect(peerRow.status, `${peer} ×${clients}: ${(peerRow as { error?: string }).error}`).toBe('ok');
          expect(peerRow.recvRate).toBeGreaterThan(0);
          expect(row.vsPeers?.[peer]).toBe(Math.round((row.recvRate / peerRow.recvRate) * 100) / 100);
        }
      }
    }
    for (const peer of [...peers.nats, ...peers.redis]) {
      expect(json.results.some((r) => r.transport === peer && r.workload === 'pubsub')).toBe(false);
      expect(json.skipped).toContain(`${peer}: request/reply only (echo, stream); pubsub on it is out of scope`);
    }
    expect(json.results.find((r) => r.transport === 'nats' && r.workload === 'pubsub')?.status).toBe('ok');
    expect(stdout).toMatch(/clients=2 +nats +×nestjs-nats \d+\.\d\d, ×moleculer-nats \d+\.\d\d/);
    expect(stdout).toMatch(/clients=2 +redis +×nestjs-redis \d+\.\d\d, ×moleculer-redis \d+\.\d\d/);
  }, 120_000);

  // One broker each, its adapter in both profiles and the raw client alone beside them.
  const brokered = [
    { name: 'mqtt', client: 'MQTT.js', broker: 'Mosquitto', port: 1883, confirmed: 'mqtt+qos1', raw: 'mqtt-raw', loses: 'QoS 1 loses nothing' },
    { name: 'amqp1', client: 'rhea', broker: 'ActiveMQ (AMQP 1.0)', port: 5673, confirmed: 'amqp1+confirm', raw: 'amqp1-raw', loses: 'the confirm profile loses nothing' },
  ];
  for (const { name, client, broker, port, confirmed: profile, raw, loses } of brokered) {
    it(`${name} › the adapter in both profiles and the raw ${client} baseline run pubsub and echo; ${loses}`, async ({ skip }) => {
      if (!(await answers('127.0.0.1', port))) {
        const reason = `${broker} is not reachable at 127.0.0.1:${port}; start it with \`pnpm brokers up\``;
        if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${reason} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
        console.warn(`\n*** SKIPPING: ${reason} ***\n`);
        return skip(reason);
      }
      const out = mkdtempSync(join(tmpdir(), 'msg-bench-smoke-'));
      dirs.push(out);
      const transports = [name, profile, raw];
      await run(process.execPath, [MAIN, '--transport', transports.join(','), '--workload', 'echo,pubsub', '--clients', '1', '--duration', '0.3', '--size', '64', '--warmup', '0.1', '--messages', '300', '--out', out], { timeout: 90_000 });
      const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Output;
      for (const transport of transports) {
        for (const workload of ['pubsub', 'echo']) {
          const result = json.results.find((r) => r.transport === transport && r.workload === workload);
          expect(result?.status, `${transport} ${workload}: ${(result as { error?: string } | undefined)?.error}`).toBe('ok');
        }
      }
      const confirmed = json.results.find((r) => r.transport === profile && r.workload === 'pubsub')!;
      expect(confirmed.lost).toBe(0);
      expect(confirmed.received).toBe(confirmed.sent);
    }, 120_000);
  }

  it('rejects a bad argument with one line and exit code 2', async () => {
    const failure = await run(process.execPath, [MAIN, '--workload', 'nope']).catch((error: { code: number; stderr: string }) => error);
    expect((failure as { code: number }).code).toBe(2);
    expect((failure as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
  });
});
