// Discovery on real UDP sockets on loopback: two nodes with directories of their own meet by beacon,
// learn each other's names, forget on goodbye or silence, and ignore a stranger's packets.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { freePort } from '@msg/conformance';
import { createRequire } from 'node:module';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Directory, Discovery, open, seal, udpBeacon } from '../src/index.js';

// The killed node's process runs the built package: build it from the current source.
beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))], { stdio: 'inherit', timeout: 60_000 });
  if (built.status !== 0) throw new Error('tsc failed');
});

const nodes: Discovery[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

async function node(port: number, options: { secret?: string; intervalMs?: number; family?: string; address?: string } = {}): Promise<{ directory: Directory; discovery: Discovery }> {
  const directory = new Directory();
  const discovery = new Discovery(directory, {
    family: options.family ?? 'zmq',
    secret: options.secret ?? 'test secret',
    intervalMs: options.intervalMs ?? 100,
    meetings: [udpBeacon({ port, address: options.address })],
  });
  nodes.push(discovery);
  await discovery.start();
  return { directory, discovery };
}

/** Resolves once `check` holds, looking every 10 ms for at most `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !check(); ) {
    if (Date.now() > end) throw new Error(`not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const announcement = { node: 'n1', family: 'zmq', seq: 1, expiry: 1000, bye: false, services: [['echo', 'tcp://127.0.0.1:1']] as [string, string][], peers: [] };

describe('announcements', () => {
  it('open returns what seal sealed with the same secret', () => {
    const secret = Buffer.from('s');
    expect(open(seal(announcement, secret), secret)).toEqual(announcement);
  });

  it('open refuses a packet sealed with another secret, or changed after sealing, without throwing', () => {
    const packet = seal(announcement, Buffer.from('right'));
    expect(open(packet, Buffer.from('wrong'))).toBeUndefined();
    const changed = Buffer.from(packet);
    changed[changed.length - 3] = (changed[changed.length - 3] as number) ^ 1;
    expect(open(changed, Buffer.from('right'))).toBeUndefined();
    expect(open(Buffer.from('garbage'), Buffer.from('right'))).toBeUndefined();
  });

  it('open refuses a sealed packet whose body is not an announcement', () => {
    const secret = Buffer.from('s');
    expect(open(seal({ ...announcement, services: [['echo']] } as never, secret), secret)).toBeUndefined();
    expect(open(seal({ ...announcement, expiry: -1 }, secret), secret)).toBeUndefined();
  });
});

describe('discovery over UDP beacons on loopback', () => {
  for (const [kind, address] of [['multicast', '239.255.77.77'], ['broadcast', '127.255.255.255']] as const) {
    it(`two nodes learn each other's services and peers (${kind} ${address})`, async () => {
      const port = await freePort();
      const a = await node(port, { address });
      const b = await node(port, { address });
      a.directory.addService('echo', 'tcp://127.0.0.1:1111');
      b.directory.addPeer({ id: 'b1', endpoints: { publish: 'tcp://127.0.0.1:2222' } });
      await until(() => b.directory.services('echo').length === 1 && a.directory.peers().length === 1);
      expect(b.directory.services('echo')).toEqual(['tcp://127.0.0.1:1111']);
      expect(a.directory.peers()[0]).toMatchObject({ id: 'b1', endpoints: { publish: 'tcp://127.0.0.1:2222' }, origin: b.discovery.node });
    });
  }

  it('a service the node stops serving is removed from the others at its next announcement', async () => {
    const port = await freePort();
    const a = await node(port);
    const b = await node(port);
    a.directory.addService('echo', 'tcp://127.0.0.1:1111');
    await until(() => b.directory.services('echo').length === 1);
    a.directory.removeService('echo', 'tcp://127.0.0.1:1111');
    await until(() => b.directory.services('echo').length === 0);
  });

  it('a node that closes says goodbye: the others forget it before its expiry', async () => {
    const port = await freePort();
    const a = await node(port, { intervalMs: 10_000 });
    const b = await node(port, { intervalMs: 10_000 });
    a.directory.addService('echo', 'tcp://127.0.0.1:1111');
    await until(() => b.directory.services('echo').length === 1);
    await a.discovery.close();
    await until(() => b.directory.services('echo').length === 0, 2000);
    expect(b.discovery.nodes).toBe(0);
  });

  it('a node killed without a goodbye is forgotten once its expiry passes', async () => {
    const port = await freePort();
    const b = await node(port, { intervalMs: 100 });
    const child = spawn(process.execPath, [fileURLToPath(new URL('fixtures/announce.mjs', import.meta.url)), String(port), 'echo', 'tcp://127.0.0.1:1111'], { stdio: 'ignore' });
    try {
      await until(() => b.directory.services('echo').length === 1);
      child.kill('SIGKILL');
      await until(() => b.directory.services('echo').length === 0, 5000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a node with the wrong secret is ignored and counted, and nobody throws', async () => {
    const port = await freePort();
    const a = await node(port, { secret: 'right' });
    const stranger = await node(port, { secret: 'wrong' });
    stranger.directory.addService('echo', 'tcp://127.0.0.1:6666');
    await until(() => a.discovery.rejected >= 2);
    expect(a.directory.services('echo')).toEqual([]);
  });

  it('garbage and replayed records sent to the beacon port change nothing and are counted, and nobody throws', async () => {
    const port = await freePort();
    const a = await node(port);
    const sender = createSocket({ type: 'udp4', reuseAddr: true });
    const send = (packet: Buffer) => new Promise<void>((resolve, reject) => sender.send(packet, port, '239.255.77.77', (error) => (error ? reject(error) : resolve())));
    try {
      sender.bind(0, '127.0.0.1');
      await new Promise((resolve) => sender.once('listening', resolve));
      sender.setMulticastInterface('127.0.0.1');
      for (const garbage of [Buffer.alloc(0), Buffer.from('MSGD'), Buffer.alloc(1000, 0xff), Buffer.from('MSGD\u0001' + 'x'.repeat(40))]) await send(garbage);
      await until(() => a.discovery.rejected >= 3);
      const secret = Buffer.from('test secret');
      const record = (seq: number, endpoint: string) => seal({ node: 'replayed', family: 'zmq', seq, expiry: 5000, bye: false, services: [['echo', endpoint]], peers: [] }, secret);
      const listed: string[] = [];
      a.directory.watch((change) => {
        if (change.kind === 'service' && change.added) listed.push(change.endpoint);
      });
      await send(record(5, 'tcp://127.0.0.1:5'));
      await until(() => a.directory.services('echo').length === 1);
      await send(record(3, 'tcp://127.0.0.1:3'));
      await send(record(5, 'tcp://127.0.0.1:55'));
      await send(record(6, 'tcp://127.0.0.1:6'));
      await until(() => a.directory.services('echo')[0] === 'tcp://127.0.0.1:6');
      // The older and the replayed sequence numbers were never listed, even for a moment.
      expect(listed).toEqual(['tcp://127.0.0.1:5', 'tcp://127.0.0.1:6']);
    } finally {
      sender.close();
    }
  });

  it('a node of another family is not listed', async () => {
    const port = await freePort();
    const a = await node(port, { family: 'zmq' });
    const other = await node(port, { family: 'nanomsg' });
    const same = await node(port, { family: 'zmq' });
    other.directory.addService('echo', 'ipc:///nanomsg');
    same.directory.addService('echo', 'tcp://127.0.0.1:7777');
    await until(() => a.directory.services('echo').length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.directory.services('echo')).toEqual(['tcp://127.0.0.1:7777']);
  });
});
