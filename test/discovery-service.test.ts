// The survey-based discovery service: discovery nodes on known endpoints survey their members, and
// members in other processes, given only those endpoints, find each other's services by name. Two
// nodes run, so losing one loses nothing; a member with the wrong secret is counted, never listed.
import { freePort } from '@msg/conformance';
import { type Transport, connect, text } from '@msg/core';
import { type DiscoveryNode, serveDiscovery, sharedDirectory } from '@msg/discovery';
import '@msg/transport-nanomsg';
import '@msg/transport-zmq';
import { afterEach, describe, expect, it } from 'vitest';
import { Node, eventually } from './nodes.js';

const nodes: Node[] = [];
const transports: Transport[] = [];
const services: DiscoveryNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.kill()));
  await Promise.all(services.splice(0).map((s) => s.close()));
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

let runs = 0;
const SECRET = 'service-secret';

describe.each(['zmq', 'nanomsg'])('%s: the discovery service', (family) => {
  it('members find each other through two discovery nodes, keep doing so when one stops, and forget a killed member', async () => {
    const run = `svc-${process.pid}-${++runs}`;
    const endpoints = [`tcp://127.0.0.1:${await freePort()}`, `tcp://127.0.0.1:${await freePort()}`];
    const discoveryNodes = await Promise.all(
      endpoints.map(async (endpoint, i) => {
        const transport = await connect(`${family}+tcp://127.0.0.1?bind=${encodeURIComponent(endpoint)}&pattern=survey&directory=${run}-node${i}`);
        transports.push(transport);
        const node = serveDiscovery(transport, { secret: SECRET, intervalMs: 100 });
        services.push(node);
        return { transport, node };
      }),
    );
    const url = (secret: string) => `${family}+tcp://127.0.0.1?discovery=${endpoints.join(',')}&secret=${secret}&interval=100`;
    const here = await connect(`${url(SECRET)}&directory=${run}`);
    transports.push(here);
    const directory = sharedDirectory(family, run);
    const service = `${run}.echo`;
    const ask = async () => text.decode((await here.request(service, text.encode('hi'), { timeout: 1000 })).data).split(':')[0];

    const first = new Node([url(SECRET), 'rep', service, 'first']);
    nodes.push(first);
    await first.ready();
    await eventually(() => directory.services(service).length === 1 || undefined, 200, 25);
    expect(await ask()).toBe('first');

    // One discovery node goes; the other still surveys, so a newcomer is found.
    await discoveryNodes[0]!.node.close();
    await discoveryNodes[0]!.transport.close();
    const second = new Node([url(SECRET), 'rep', service, 'second']);
    nodes.push(second);
    await second.ready();
    await eventually(() => directory.services(service).length === 2 || undefined, 200, 25);
    await eventually(async () => ((await ask().catch(() => 'lost')) === 'second' ? true : undefined), 200, 0);

    // A stranger without the secret answers the surveys too: counted, never listed.
    const stranger = new Node([url('not-the-secret'), 'rep', service, 'stranger']);
    nodes.push(stranger);
    await stranger.ready();
    await eventually(() => (discoveryNodes[1]!.node.rejected > 0 ? true : undefined), 200, 25);

    await first.kill();
    await eventually(() => directory.services(service).length === 1 || undefined, 200, 25);
    const after = await Promise.all(Array.from({ length: 10 }, ask));
    expect(new Set(after)).toEqual(new Set(['second']));
    expect(discoveryNodes[1]!.node.members).toBe(2); // this process and the second replier
  });
});
