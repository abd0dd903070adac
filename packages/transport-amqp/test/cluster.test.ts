// On a three-node RabbitMQ cluster (scripts/cluster up rabbitmq, each node's AMQP listener on its
// own 127.0.0.x): the at-least-once suite with quorum queues, each peer starting at a different
// node, then the node that a publisher, a subscriber and the subscription's queue leader share,
// killed under load: nothing whose publish was confirmed is lost, and both clients go on through
// the other nodes; and the node of an at-most-once requester, killed under load. (The at-most-once
// suite runs on the single node in conformance.test.ts: what a cluster changes for it, a node's
// loss, is the last case here.)

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PublishLoad, Received, StatusLog, checkCluster, clusters, describeTransport, killNode, restoreCluster, until, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type AmqpOptions, amqpConfirmedCapabilities, createAmqpTransport } from '../src/index.js';

const skip = await checkCluster('rabbitmq');
const nodes = clusters.rabbitmq;
const addresses = nodes.map(({ host, port }) => `${host}:${port}`);
const quorum: AmqpOptions = { delivery: 'at-least-once', queueType: 'quorum' };

/** The cluster's nodes, starting at the nth (the node a transport given this list talks to). */
const from = (n: number) => [...addresses.slice(n), ...addresses.slice(0, n)];
let peer = 0;
// Each peer of the suite starts at the next node, so the suite's messages cross nodes.
describeTransport({ name: 'amqp cluster, quorum queues', capabilities: amqpConfirmedCapabilities, skip, connect: () => createAmqpTransport({ ...quorum, cluster: from(peer++ % 3) }) });

const script = new URL('../../../scripts/cluster', import.meta.url).pathname;
/** rabbitmqctl on a node of the cluster that runs. */
async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [script, 'rabbitmqctl', ...args], { timeout: 60_000 });
  return stdout;
}

const fast = { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } };
let open: Transport[] = [];
async function transport(options: AmqpOptions): Promise<Transport> {
  const t = await createAmqpTransport({ ...fast, ...options });
  open.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});

describe.skipIf(skip)('amqp cluster: the node the clients and the queue leader share is killed under load', () => {
  afterEach(() => restoreCluster('rabbitmq', 150_000), 160_000);

  it('quorum queue: nothing whose publish was confirmed is lost; publisher and subscriber go on through the other nodes', async () => {
    const publisher = await transport({ ...quorum, cluster: from(0) });
    const subscriber = await transport({ ...quorum, cluster: from(0) });
    const publisherStatus = new StatusLog(publisher);
    const topic = `cluster.failover.${process.pid}.${Date.now()}`;
    const received = new Received();
    const durable = `failover.${process.pid}.${Date.now()}`;
    await subscriber.subscribe(topic, { durable, handler: received.handler });
    // RabbitMQ places a quorum queue's leader on the node it was declared through: the first.
    const queues = await rabbitmqctl('list_queues', '--no-table-headers', 'name', 'type', 'leader', 'members');
    const [, type, leader, members] = /\t(\w+)\t(\S+)\t\[(.*)\]/.exec(queues.split('\n').find((row) => row.includes(durable)) ?? '') ?? [];
    expect({ type, leader, members: members?.split(', ').sort() }).toEqual({
      type: 'quorum',
      leader: 'msg-c1@localhost',
      members: ['msg-c1@localhost', 'msg-c2@localhost', 'msg-c3@localhost'],
    });

    const load = new PublishLoad({
      publish: (key) => publisher.publish(topic, utf8(key)),
      total: 3000,
      // A publish refused while the client changes node is followed by a short pause, as a caller would.
      pause: ({ refused }) => (refused > 0 ? 5 : 0),
    });
    expect(await until(() => load.resolved.size >= 500, 30_000)).toBe(true);
    await killNode('rabbitmq', nodes[0]!);
    const atKill = load.resolved.size;
    await load.done;
    const lost = await received.drained(load);
    console.info(
      `rabbitmq cluster, node 1 (clients and queue leader) killed: ${load.summary()}, ${load.resolved.size - atKill} resolved after the kill; ${received.summary(load)}; publisher status ${publisherStatus.types().join(' → ')}`,
    );
    expect(lost).toEqual([]);
    // Publishing went on through another node, with the queue's new leader on one of the two left.
    expect(load.resolved.size - atKill).toBeGreaterThan(0);
    expect(publisherStatus.recovered()).toBe(true);
    expect(publisherStatus.events.find((event) => event.type === 'disconnected')).toMatchObject({ error: { code: 'CONNECTION', message: expect.stringContaining(addresses[0]!) } });
  }, 180_000);

  it('at most once: requests in flight fail with CONNECTION, then are answered through another node', async () => {
    // The requester talks to the node that is killed; the replier, to another.
    const requester = await transport({ cluster: from(0) });
    const replier = await transport({ cluster: from(1) });
    await replier.reply('cluster.echo', (request) => request.data);
    const settled = new Map<string, number>();
    const load = new PublishLoad({
      publish: (key) =>
        requester.request('cluster.echo', utf8(key), { timeout: 10_000 }).then(
          () => void settled.set('ok', (settled.get('ok') ?? 0) + 1),
          (error: { code?: string }) => {
            settled.set(error.code ?? 'unknown', (settled.get(error.code ?? 'unknown') ?? 0) + 1);
            throw error;
          },
        ),
      total: 20_000,
      inFlight: 50,
      pause: ({ published }) => (published % 50 === 0 ? 5 : 0),
    });
    expect(await until(() => (settled.get('ok') ?? 0) >= 200, 20_000)).toBe(true);
    await killNode('rabbitmq', nodes[0]!);
    const okAtKill = settled.get('ok') ?? 0;
    // The requester moves to another node by itself and is answered again, with the node still dead.
    expect(await until(() => (settled.get('ok') ?? 0) > okAtKill + 200, 30_000)).toBe(true);
    await load.stop();
    console.info(`rabbitmq cluster, node 1 (the requester's) killed: ${load.published} requests, ${[...settled].map(([code, n]) => `${code} ${n}`).join(', ')}`);
    // Every request settled (none hangs), and only with an answer or a clear connection error.
    expect([...settled.values()].reduce((a, b) => a + b, 0)).toBe(load.published);
    expect([...settled.keys()].filter((code) => !['ok', 'CONNECTION', 'NO_RESPONDERS'].includes(code))).toEqual([]);
  }, 120_000);
});
