// Three hosts, each a network namespace this test creates with an address of its own (10.77.0.1-3/24),
// wired by veth pairs into a bridge in a fourth namespace: nodes of each adapter find each other by
// name only, over UDP discovery on that network, for request/reply, pub/sub, survey and bus. Every
// namespace (and so every veth and the bridge) is removed afterwards, even on failure, and leftovers
// of an earlier run that crashed are removed first.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Node } from './nodes.js';

const PREFIX = 'msgdisc-';
const HOSTS = ['a', 'b', 'c'] as const;
const SWITCH = `${PREFIX}sw`;
const BRIDGE = `${PREFIX}br0`;
const address = (i: number) => `10.77.0.${i + 1}`;

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function removeAll(): void {
  const names = ip('netns', 'list').split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name.startsWith(PREFIX));
  for (const name of names) ip('netns', 'delete', name);
  // A veth whose peer end was never moved into a namespace would stay in this one.
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (name?.startsWith(PREFIX)) ip('link', 'delete', name);
  }
}

function createNetwork(): void {
  ip('netns', 'add', SWITCH);
  ip('-n', SWITCH, 'link', 'add', BRIDGE, 'type', 'bridge', 'mcast_snooping', '0');
  ip('-n', SWITCH, 'link', 'set', BRIDGE, 'up');
  for (const [i, host] of HOSTS.entries()) {
    const ns = `${PREFIX}${host}`;
    ip('netns', 'add', ns);
    ip('link', 'add', `${PREFIX}v${host}`, 'type', 'veth', 'peer', 'name', `${PREFIX}p${host}`);
    ip('link', 'set', `${PREFIX}v${host}`, 'netns', SWITCH);
    ip('link', 'set', `${PREFIX}p${host}`, 'netns', ns);
    ip('-n', SWITCH, 'link', 'set', `${PREFIX}v${host}`, 'master', BRIDGE, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${address(i)}/24`, 'dev', `${PREFIX}p${host}`);
    ip('-n', ns, 'link', 'set', `${PREFIX}p${host}`, 'up');
  }
}

/** Why namespaces cannot be made here, or undefined when they can. */
function unavailable(): string | undefined {
  try {
    removeAll();
    createNetwork();
    return undefined;
  } catch (error) {
    try {
      removeAll();
    } catch {
      // Nothing could be created either.
    }
    return `cannot create network namespaces (${(error as Error).message.split('\n')[0]}); run as root with iproute2`;
  }
}

const why = unavailable();
if (why && process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${why} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
if (why) console.warn(`\n*** SKIPPING the network namespace tests: ${why} ***\n`);

const nodes: Node[] = [];
afterAll(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.kill()));
  if (!why) removeAll();
});

describe.skipIf(why !== undefined).each(['zmq', 'nanomsg'])(`%s across three hosts (network namespaces)${why ? ` [SKIPPED: ${why}]` : ''}`, (family) => {
  const on = (host: number, roles: string[]) => {
    const url = `${family}+tcp://${address(host)}?discovery=udp&secret=three-hosts&interval=200`;
    const node = new Node([url, ...roles], ['ip', 'netns', 'exec', `${PREFIX}${HOSTS[host]}`]);
    nodes.push(node);
    return node;
  };

  it('request/reply, pub/sub, survey and bus by name only', async () => {
    const n = `${family}`;
    const a = on(0, ['rep', `${n}.echo`, 'a', 'pub', `${n}.news`, 'news-from-a', 'respond', `${n}.health`, 'a-ok', 'bus', `${n}.room`, 'bus-a']);
    const b = on(1, ['req', `${n}.echo`, 'from-b', 'sub', `${n}.news`, '-', 'respond', `${n}.health`, 'b-ok', 'bus', `${n}.room`, 'bus-b']);
    const c = on(2, ['survey', `${n}.health`, '?', 'bus', `${n}.room`, 'bus-c']);
    await Promise.all([a.ready(), b.ready(), c.ready()]);
    // Each line proves a message crossed from one host to another, found by name alone.
    expect(await b.line((l) => l === 'got a:from-b')).toBe('got a:from-b');
    expect(await b.line((l) => l === 'got news-from-a')).toBe('got news-from-a');
    expect(await c.line((l) => l === 'got a-ok,b-ok')).toBe('got a-ok,b-ok');
    for (const [member, others] of [[a, ['bus-b', 'bus-c']], [b, ['bus-a', 'bus-c']], [c, ['bus-a', 'bus-b']]] as const) {
      for (const other of others) expect(await member.line((l) => l === `got ${other}`)).toBe(`got ${other}`);
    }
    await Promise.all([a, b, c].map((node) => node.kill()));
  });
});
