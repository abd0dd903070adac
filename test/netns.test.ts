// Three hosts, each a network namespace this test creates with an address of its own (10.77.0.1-3/24),
// wired by veth pairs into a bridge in a fourth namespace (so nothing of it is in the host's own): nodes of each adapter find each other by
// name only, over UDP discovery on that network, for request/reply, pub/sub, survey and bus. Every
// namespace (and so every veth and the bridge) is removed afterwards, even on failure, and leftovers
// of an earlier run that crashed are removed first.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Node } from './nodes.js';

// Every name carries this run's process id (base 36), so two runs side by side keep apart; those of
// a run whose process is gone are leftovers of a crash, removed first. Interface names stay short:
// Linux allows 15 characters.
const PREFIX = 'msgdisc-';
const RUN = process.pid.toString(36);
const HOSTS = ['a', 'b', 'c'] as const;
const namespace = (host: string) => `${PREFIX}${RUN}-${host}`;
const SWITCH = namespace('sw');
const BRIDGE = 'msgdisc-br0';
const veth = (side: 'v' | 'p', host: string) => `md${RUN}${side}${host}`;
const address = (i: number) => `10.77.0.${i + 1}`;

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

const alive = (run: string) => {
  try {
    process.kill(Number.parseInt(run, 36), 0);
    return true;
  } catch {
    return false;
  }
};

/** Removes what run `run` made (every namespace, and so every veth and bridge in them). */
function remove(shouldGo: (run: string) => boolean): void {
  for (const name of ip('netns', 'list').split('\n').map((line) => line.split(' ')[0] ?? '')) {
    const run = new RegExp(`^${PREFIX}([0-9a-z]+)-`).exec(name)?.[1];
    if (run !== undefined && shouldGo(run)) ip('netns', 'delete', name);
  }
  // A veth whose ends were never moved into a namespace would stay in this one.
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    const run = name && /^md([0-9a-z]+)[vp][abc]$/.exec(name)?.[1];
    // Deleting one end of a veth deletes the other: it may be gone already.
    if (name && run && shouldGo(run) && ip('-o', 'link', 'show').includes(`: ${name}`)) ip('link', 'delete', name);
  }
}

const removeAll = () => remove((run) => run === RUN || !alive(run));

function createNetwork(): void {
  ip('netns', 'add', SWITCH);
  ip('-n', SWITCH, 'link', 'add', BRIDGE, 'type', 'bridge', 'mcast_snooping', '0');
  ip('-n', SWITCH, 'link', 'set', BRIDGE, 'up');
  for (const [i, host] of HOSTS.entries()) {
    const ns = namespace(host);
    ip('netns', 'add', ns);
    ip('link', 'add', veth('v', host), 'type', 'veth', 'peer', 'name', veth('p', host));
    ip('link', 'set', veth('v', host), 'netns', SWITCH);
    ip('link', 'set', veth('p', host), 'netns', ns);
    ip('-n', SWITCH, 'link', 'set', veth('v', host), 'master', BRIDGE, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${address(i)}/24`, 'dev', veth('p', host));
    ip('-n', ns, 'link', 'set', veth('p', host), 'up');
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
  if (!why) remove((run) => run === RUN);
});

describe.skipIf(why !== undefined).each(['zmq', 'nanomsg'])(`%s across three hosts (network namespaces)${why ? ` [SKIPPED: ${why}]` : ''}`, (family) => {
  const on = (host: number, roles: string[]) => {
    const url = `${family}+tcp://${address(host)}?discovery=udp&secret=three-hosts&interval=200`;
    const node = new Node([url, ...roles], ['ip', 'netns', 'exec', namespace(HOSTS[host] as string)]);
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
