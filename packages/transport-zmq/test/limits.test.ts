// What one TCP peer can make a binding socket hold: a peer that opens a multipart message and never
// ends it is cut off once the message passes the part or byte limit, and is counted; others go on.

import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory, createZmqTransport, zmqCapabilities } from '../src/index.js';
import { Guard } from '../src/guard.js';
import { flood } from './zmtp.js';

const MiB = 1024 * 1024;
const fixture = fileURLToPath(new URL('./fixtures/replier.mjs', import.meta.url));

interface State {
  rss: number;
  droppedPeers: number | undefined;
  /** BAD_FRAME events its status() reported. */
  badFrames: number;
}

/** A replier and publisher in a fresh process, so that its memory is its own. */
class Target {
  readonly child: ChildProcess;
  endpoints = { replier: '', publisher: '' };

  constructor() {
    this.child = fork(fixture, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  async started(): Promise<this> {
    [this.endpoints] = (await once(this.child, 'message')) as [{ replier: string; publisher: string }];
    return this;
  }

  async state(): Promise<State> {
    const reply = once(this.child, 'message') as Promise<[State]>;
    this.child.send('state');
    return (await reply)[0];
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }
}

const targets: Target[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.kill()));
});

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

describe('limits', () => {
  it('a peer that streams a message without end is cut off and counted, memory stays bounded, and requesters are still served', { timeout: 120_000 }, async () => {
    const cases = [
      // The publisher reads what its subscribers send (their subscriptions), so it is reachable too.
      { socket: 'publisher', socketType: 'SUB', frameSize: 1024, total: 64 * MiB },
      // Many small parts: past the part limit long before the bytes count.
      { socket: 'replier', socketType: 'DEALER', frameSize: 1024, total: 64 * MiB },
      // Few large parts, each below the frame limit: past the byte limit of the whole message.
      { socket: 'replier', socketType: 'DEALER', frameSize: 4 * MiB, total: 64 * MiB },
    ] as const;
    const results = [];
    let target: Target | undefined;
    for (const { socket, ...options } of cases) {
      await target?.kill();
      target = await new Target().started();
      targets.push(target);
      const before = await target.state();
      const peer = await flood(portOf(target.endpoints[socket]), { ...options, ms: 30_000 });
      const during = await target.state();
      await peer.close();
      const after = await target.state();
      results.push({ socket, ...options, sent: peer.sent, cutOff: peer.cutOff, before, during, after });
    }
    console.log(
      `limits: ${results
        .map((r) => `${r.socket} (${r.socketType} peer, ${r.frameSize} B frames): sent ${mib(r.sent)}, cut off ${r.cutOff}, rss ${mib(r.before.rss)} +${mib(r.during.rss - r.before.rss)} while connected, +${mib(r.after.rss - r.before.rss)} after it left`)
        .join('; ')}`,
    );
    for (const r of results) {
      expect(r.cutOff).toBe(true);
      expect(r.sent).toBeLessThan(32 * MiB);
      expect(r.during.droppedPeers).toBe(1);
      expect(r.during.badFrames).toBe(1);
      expect(r.during.rss - r.before.rss).toBeLessThan(40 * MiB);
    }

    // The replier that cut off the last peer serves others, up to the largest payload.
    const directory = new Directory();
    directory.addService('hostile.echo', target!.endpoints.replier);
    const requester: Transport = await createZmqTransport({ directory });
    try {
      const largest = new Uint8Array(zmqCapabilities.maxPayload).fill(7);
      const reply = await requester.request('hostile.echo', largest, { timeout: 10_000, headers: { who: 'polite' } });
      expect(reply.data.length).toBe(largest.length);
      expect(Buffer.compare(reply.data, largest)).toBe(0);
      expect(Buffer.from((await requester.request('hostile.echo', new TextEncoder().encode('hi'))).data).toString()).toBe('hi');
    } finally {
      await requester.close();
    }
    expect((await target!.state()).droppedPeers).toBe(1);
  });
});

describe('which binds the guard covers', () => {
  const report = () => undefined;
  const limits = { maxParts: 32, maxBytes: MiB };
  it('by default every TCP bind but a loopback one, which only processes of this host reach', () => {
    const guard = new Guard(limits, report, false);
    for (const endpoint of ['tcp://0.0.0.0:5555', 'tcp://*:5555', 'tcp://[::]:5555', 'tcp://10.1.2.3:*', 'tcp://eth0:5555']) expect(guard.covers(endpoint), endpoint).toBe(true);
    for (const endpoint of ['tcp://127.0.0.1:*', 'tcp://127.4.5.6:5555', 'tcp://[::1]:5555', 'tcp://localhost:5555']) expect(guard.covers(endpoint), endpoint).toBe(false);
  });

  it('with guard: true, loopback binds too', () => {
    const guard = new Guard(limits, report, true);
    expect(guard.covers('tcp://127.0.0.1:*')).toBe(true);
  });
});
