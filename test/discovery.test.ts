// Processes on one host that know no endpoint of each other: each transport is created with UDP
// discovery only (multicast on loopback), and they find each other by service, topic and group names.
import { freePort } from '@msg/conformance';
import { type Transport, connect, text } from '@msg/core';
import { sharedDirectory } from '@msg/discovery';
import '@msg/transport-nanomsg';
import '@msg/transport-zmq';
import { afterEach, describe, expect, it } from 'vitest';
import { Node, eventually } from './nodes.js';

const nodes: Node[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.kill()));
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

let runs = 0;
function start(args: string[]): Node {
  const node = new Node(args);
  nodes.push(node);
  return node;
}

describe.each(['zmq', 'nanomsg'])('%s: processes on one host, discovery by UDP beacons', (family) => {
  const setup = async () => {
    const port = await freePort();
    const directory = `e2e-${process.pid}-${++runs}`;
    const url = `${family}+tcp://127.0.0.1?discovery=udp&beacon=239.255.77.77:${port}&secret=e2e-secret&interval=100`;
    const here = await connect(`${url}&directory=${directory}`);
    transports.push(here);
    return { url, here, directory: sharedDirectory(family, directory), name: (what: string) => `${what}.${runs}` };
  };

  it('a killed replier is forgotten within its expiry, requests go to the other, and a restarted one is found again', async () => {
    const { url, here, directory, name } = await setup();
    const service = name('echo');
    // One replier before this process's requester exists, one after: the order does not matter.
    const early = start([url, 'rep', service, 'early']);
    await early.ready();
    const late = start([url, 'rep', service, 'late']);
    await late.ready();
    await eventually(() => directory.services(service).length === 2 || undefined, 200, 25);
    const answered = new Set<string>();
    const ask = async () => {
      const reply = await here.request(service, text.encode('hi'), { timeout: 1000 });
      return text.decode(reply.data).split(':')[0] as string;
    };
    await eventually(async () => {
      answered.add(await ask().catch(() => 'lost'));
      return answered.has('early') && answered.has('late') ? true : undefined;
    }, 200, 0);

    await early.kill();
    await eventually(() => directory.services(service).length === 1 || undefined, 200, 25);
    const after = await Promise.all(Array.from({ length: 20 }, ask));
    expect(new Set(after)).toEqual(new Set(['late']));

    const restarted = start([url, 'rep', service, 'restarted']);
    await restarted.ready();
    await eventually(() => directory.services(service).length === 2 || undefined, 200, 25);
    await eventually(async () => ((await ask().catch(() => 'lost')) === 'restarted' ? true : undefined), 200, 0);
  });

  it('publish/subscribe, survey and bus reach the other processes by name', async () => {
    const { url, here, name } = await setup();
    const topic = name('news');
    const publisher = start([url, 'pub', topic, 'sunny']);
    await publisher.ready();
    const news = await here.subscribe(topic);
    for await (const message of news) {
      expect(text.decode(message.data)).toBe('sunny');
      break;
    }

    const health = name('health');
    for (const tag of ['one', 'two']) await start([url, 'respond', health, tag]).ready();
    const answers = await eventually(async () => {
      const got = (await here.survey(health, new Uint8Array(0), { deadline: 300 }).toArray()).map((a) => text.decode(a.data)).sort();
      return got.length === 2 ? got : undefined;
    }, 50, 50);
    expect(answers).toEqual(['one', 'two']);

    const group = name('room');
    const member = start([url, 'bus', group, 'theirs']);
    await member.ready();
    const mine = await here.join(group);
    for await (const message of mine) {
      expect(text.decode(message.data)).toBe('theirs');
      break;
    }
    await eventually(async () => {
      await mine.send(text.encode('mine'));
      return member.lines.includes('got mine') ? true : undefined;
    }, 100, 50);
  });
});
