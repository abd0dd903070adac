// A node cut off, not killed: three nats-server nodes with JetStream, each on a test host of its own
// (a network namespace, 10.78.0.1-3), and the client on a fourth (10.78.0.4). Under load, the host of
// the stream's leader, which the publisher talks to, is cut off from every other host: its packets
// vanish, with no reset, while the node goes on running and still believes itself the leader.
// Nothing whose publish resolved may be lost: the cut node cannot get a quorum, so it acknowledges
// nothing; the client notices the silence by its pings and moves to another node, and the two that
// remain elect a leader. Healed, the cut node's copy of the stream catches up with theirs. Everything
// the test made is removed afterwards, even on failure.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TestNetwork, createOrSkip } from './network.js';
import { Node, eventually } from './nodes.js';

const SERVERS = ['a', 'b', 'c'] as const;
const CLIENT = 'x';
const CLIENT_SCRIPT = fileURLToPath(new URL('fixtures/partition-client.mjs', import.meta.url));
const SERVER_LIFETIME_MS = 150_000;

function natsServerMissing(): string | undefined {
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'nats-server is not installed (Debian: nats-server)';
  }
}

const missing = natsServerMissing();
if (missing && process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${missing} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
const network = new TestNetwork('msgpart-', 'mp', 78, [...SERVERS, CLIENT]);
const why = missing ?? createOrSkip(network, 'the partition test');
if (missing) console.warn(`\n*** SKIPPING the partition test: ${missing} ***\n`);

const state = mkdtempSync(join(tmpdir(), 'msg-partition-'));
const servers: ChildProcess[] = [];
const logs = new Map<string, string>();
const clients: Node[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.kill()));
  await Promise.all(
    servers.map((server) => {
      if (server.exitCode !== null || server.signalCode !== null) return undefined;
      server.kill('SIGTERM'); // timeout(1) passes it on to the server
      return new Promise((resolve) => server.once('exit', resolve));
    }),
  );
  if (!why) network.remove();
  rmSync(state, { recursive: true, force: true });
});

const url = (host: string) => `nats://${network.address(host)}:4222`;

/** Starts nats-server node nN on host `host`, with routes to the others and JetStream, for a bounded time. */
function startServer(host: string, n: number): void {
  const address = network.address(host);
  const routes = SERVERS.filter((other) => other !== host).map((other) => `nats-route://${network.address(other)}:6222`);
  const config = join(state, `n${n}.conf`);
  // Short pings, so that routes to a silent node are given up within seconds (a cut sends no reset).
  writeFileSync(
    config,
    `server_name: n${n}
listen: ${address}:4222
http: ${address}:8222
ping_interval: "1s"
ping_max: 2
jetstream { store_dir: "${join(state, `n${n}`)}", max_memory_store: 64MB, max_file_store: 256MB }
cluster { name: partition, listen: ${address}:6222, routes: [${routes.join(', ')}] }
`,
  );
  // Bounded by timeout(1) as well, so that a server outlives a test process that died by no more than that.
  const seconds = String(SERVER_LIFETIME_MS / 1000);
  const server = spawn('ip', ['netns', 'exec', network.namespace(host), 'timeout', '-s', 'KILL', seconds, 'nats-server', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lifetime = setTimeout(() => server.kill('SIGTERM'), SERVER_LIFETIME_MS);
  server.once('exit', () => clearTimeout(lifetime));
  // The server's log, its last few KiB kept to say why a cluster did not form (and so the pipe never fills).
  server.stderr?.setEncoding('utf8').on('data', (chunk: string) => logs.set(host, ((logs.get(host) ?? '') + chunk).slice(-4096)));
  servers.push(server);
}

/** What node `host`'s monitoring port answers at `path`, asked from the client host; undefined when it does not. */
function monitor<T>(host: string, path: string): T | undefined {
  try {
    const body = execFileSync('ip', ['netns', 'exec', network.namespace(CLIENT), 'curl', '-sf', '--max-time', '2', `http://${network.address(host)}:8222${path}`]);
    return JSON.parse(body.toString()) as T;
  } catch {
    return undefined;
  }
}

const routes = (host: string) => monitor<{ num_routes: number }>(host, '/routez')?.num_routes ?? -1;

/** The last sequence number of `stream` in node `host`'s copy. */
function lastSeq(host: string, stream: string): number | undefined {
  type Jsz = { account_details?: { stream_detail?: { name: string; state: { last_seq: number } }[] }[] };
  const details = monitor<Jsz>(host, '/jsz?accounts=true&streams=true')?.account_details ?? [];
  return details.flatMap((account) => account.stream_detail ?? []).find((detail) => detail.name === stream)?.state.last_seq;
}

describe.skipIf(why !== undefined)(`nats cluster on three hosts: the stream leader's host cut off under load${why ? ` [SKIPPED: ${why}]` : ''}`, () => {
  it('JetStream, 3 replicas: nothing whose publish resolved is lost, the publisher moves on, and the healed node catches up', async () => {
    SERVERS.forEach((host, i) => startServer(host, i + 1));
    // The cluster is formed: every node routes to both others.
    await eventually(() => (SERVERS.every((host) => routes(host) === 2) ? true : undefined), 60, 500).catch((error: Error) => {
      throw new Error(`the cluster did not form: ${error.message}; the servers said: ${JSON.stringify(Object.fromEntries(logs))}`);
    });

    const stream = `PARTITION_${process.pid}`;
    const client = new Node([SERVERS.map(url).join(','), stream], network.on(CLIENT), CLIENT_SCRIPT);
    clients.push(client);
    const leader = (await client.line((line) => line.startsWith('leader '), 40_000)).slice('leader '.length);
    const cutHost = SERVERS[Number(leader.slice(1)) - 1]!;
    await client.line((line) => line === 'cut', 40_000);
    network.cut(cutHost);
    client.signal('SIGUSR2');

    const line = await client.line((l) => l.startsWith('result '), 55_000);
    const result = JSON.parse(line.slice('result '.length)) as { published: number; resolved: number; afterCut: number; summary: string; lost: string[]; leaderAfter: string; status: string[] };
    // Healed, the cut node's copy of the stream catches up with the others' (nothing of its own kept).
    const other = SERVERS.find((host) => host !== cutHost)!;
    const whileCut = `${lastSeq(cutHost, stream) ?? 'unreachable'} / ${lastSeq(other, stream)}`;
    network.heal(cutHost);
    const caughtUp = await eventually(() => {
      const [healed, reference] = [lastSeq(cutHost, stream), lastSeq(other, stream)];
      return healed !== undefined && healed === reference ? healed : undefined;
    }, 60, 500);
    console.info(
      `nats cluster on three hosts, ${leader} (the stream leader, the publisher's node) cut off: ${result.summary}, ${result.afterCut} resolved after the cut; leader after the cut ${result.leaderAfter}; publisher status ${result.status.join(' → ')}; last sequence of the stream on the cut node / another while cut: ${whileCut}, on both ${caughtUp} after the heal`,
    );

    expect(result.lost).toEqual([]);
    expect(result.resolved).toBeGreaterThan(500);
    // Publishing went on through another node while the cut node was still running, cut off.
    expect(result.afterCut).toBeGreaterThan(0);
    expect(result.status).toEqual(expect.arrayContaining(['disconnected', 'reconnected']));
    // The two nodes that remained elected a leader of their own.
    expect(result.leaderAfter).not.toBe(leader);
    expect(caughtUp).toBeGreaterThanOrEqual(result.resolved);
  }, 150_000);
});
