// Three hosts, each a network namespace this test creates with an address of its own (10.77.0.1-3/24),
// wired by veth pairs into a bridge in a fourth namespace (so nothing of it is in the host's own): nodes of each adapter find each other by
// name only, over UDP discovery on that network, for request/reply, pub/sub, survey and bus. Every
// namespace (and so every veth and the bridge) is removed afterwards, even on failure, and leftovers
// of an earlier run that crashed are removed first.
import { afterAll, describe, expect, it } from 'vitest';
import { TestNetwork, createOrSkip } from './network.js';
import { Node } from './nodes.js';

const HOSTS = ['a', 'b', 'c'] as const;
const network = new TestNetwork('msgdisc-', 'md', 77, HOSTS);
const why = createOrSkip(network, 'the network namespace tests');

const nodes: Node[] = [];
afterAll(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.kill()));
  if (!why) network.remove();
});

describe.skipIf(why !== undefined).each(['zmq', 'nanomsg'])(`%s across three hosts (network namespaces)${why ? ` [SKIPPED: ${why}]` : ''}`, (family) => {
  const on = (host: number, roles: string[]) => {
    const name = HOSTS[host] as string;
    const url = `${family}+tcp://${network.address(name)}?discovery=udp&secret=three-hosts&interval=200`;
    const node = new Node([url, ...roles], network.on(name));
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
