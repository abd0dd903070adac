// The clusters that `scripts/cluster up <name>` starts, each node on a loopback address of its own:
// a check that turns "cluster not up" into a loud skip (a failure under MSG_REQUIRE_BROKERS=1), and
// killing one node as a crash would, then bringing it back with the same script.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { reachable } from './helpers.js';

export type ClusterName = 'nats' | 'kafka' | 'redis' | 'rabbitmq';

export interface ClusterNode {
  host: string;
  port: number;
}

function node(host: string, port: number): ClusterNode {
  return { host, port };
}

/** Where each cluster's nodes listen for clients (the script's fixed addresses and ports). */
export const clusters: Record<ClusterName, ClusterNode[]> = {
  nats: ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((host) => node(host, 14222)),
  kafka: ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((host) => node(host, 19092)),
  redis: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'].map((host) => node(host, 16379)),
  rabbitmq: ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((host) => node(host, 17672)),
};

/** The repository root: the nearest directory above the working directory with scripts/cluster. */
function repositoryRoot(): string {
  let dir = process.cwd();
  while (!existsSync(join(dir, 'scripts', 'cluster'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('scripts/cluster not found above the working directory; run the cluster tests inside the msg repository');
    dir = parent;
  }
  return dir;
}

/**
 * Checks that every node of a cluster answers. Returns undefined when they do, else a reason to
 * skip; when MSG_REQUIRE_BROKERS=1 (as in CI) it throws instead, failing the run.
 */
export async function checkCluster(name: ClusterName): Promise<string | undefined> {
  const down: string[] = [];
  for (const { host, port } of clusters[name]) if (!(await reachable(host, port))) down.push(`${host}:${port}`);
  if (down.length === 0) return undefined;
  const reason = `the ${name} cluster is not up (${down.join(', ')} do not answer); start it with \`scripts/cluster up ${name}\` (each node needs its own 127.0.0.x address on lo)`;
  if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${reason} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
  console.warn(`\n*** SKIPPING: ${reason} ***\n`);
  return reason;
}

/**
 * Kills the node listening for clients at host:port with SIGKILL, as a crash would, and waits until
 * it is gone. Only a node the script started (its recorded pid, still running its command) is killed.
 */
export async function killNode(name: ClusterName, at: ClusterNode): Promise<void> {
  const state = join(repositoryRoot(), '.brokers', 'cluster', name);
  const address = `${at.host}:${at.port}`;
  const dir = readdirSync(state)
    .map((entry) => join(state, entry))
    .find((entry) => existsSync(join(entry, 'address')) && readFileSync(join(entry, 'address'), 'utf8').trim() === address);
  if (!dir) throw new Error(`no node of the ${name} cluster listens at ${address}`);
  const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (!command.includes(dir)) throw new Error(`pid ${pid} recorded for ${address} is no longer that node`);
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (existsSync(`/proc/${pid}`)) throw new Error(`node ${address} (pid ${pid}) did not die within 5 s of SIGKILL`);
}

/** Starts again whatever node of the cluster is down (`scripts/cluster up <name>`), bounded in time. */
export function restoreCluster(name: ClusterName, ms = 120_000): Promise<void> {
  const root = repositoryRoot();
  return new Promise((resolve, reject) => {
    execFile('bash', [join(root, 'scripts', 'cluster'), 'up', name], { timeout: ms }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/cluster up ${name} failed: ${stderr || stdout || error.message}`));
      else resolve();
    });
  });
}
