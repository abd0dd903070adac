// PIPELINE and PAIR channels, with each other and with nanocat.

import { afterEach, describe, expect, it } from 'vitest';
import { newEndpoint } from '../src/endpoints.js';
import { type Pair, type Puller, type Pusher, createPair, createPuller, createPusher } from '../src/index.js';
import { NativePeer } from './native-peer.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const bytes = (value: string) => new TextEncoder().encode(value);

let open: (Pusher | Puller | Pair)[] = [];
let peers: NativePeer[] = [];

afterEach(async () => {
  await Promise.all(open.map((channel) => channel.close()));
  await Promise.all(peers.map((peer) => peer.kill()));
  open = [];
  peers = [];
});

async function take(source: AsyncIterable<Uint8Array>, count: number): Promise<string[]> {
  const got: string[] = [];
  for await (const frame of source) {
    got.push(text(frame));
    if (got.length === count) break;
  }
  return got;
}

describe('pipeline', () => {
  it('two pullers share what one pusher sends: each frame reaches exactly one', async () => {
    const endpoint = await newEndpoint('ipc');
    const pusher = createPusher({ bind: [endpoint] });
    const pullers = [createPuller({ connect: [endpoint] }), createPuller({ connect: [endpoint] })];
    open.push(pusher, ...pullers);
    const count = 200;
    // PUSH waits for a puller, so nothing is lost while they connect.
    const sends = Array.from({ length: count }, (_, i) => pusher.send(bytes(`job${i}`)));
    const counts = [0, 0];
    const seen = new Set<string>();
    const reads = pullers.map(async (puller, p) => {
      for await (const frame of puller) {
        seen.add(text(frame));
        counts[p] = (counts[p] ?? 0) + 1;
        if (seen.size === count) break;
      }
    });
    await Promise.all(sends);
    await Promise.race(reads);
    expect(seen.size).toBe(count);
    expect(counts[0]! + counts[1]!).toBe(count);
  });

  it('nanocat pushing reaches our puller, and our pusher reaches nanocat pulling', async () => {
    const inbound = await newEndpoint('tcp://127.0.0.1');
    const puller = createPuller({ bind: [inbound] });
    open.push(puller);
    peers.push(new NativePeer('nanocat', ['--push', '--connect', inbound, '--data', 'from nanocat', '--interval', '0.1']));
    expect(await take(puller, 1)).toEqual(['from nanocat']);

    const outbound = await newEndpoint('tcp://127.0.0.1');
    const pulling = new NativePeer('nanocat', ['--pull', '--bind', outbound, '--quoted']);
    peers.push(pulling);
    const pusher = createPusher({ connect: [outbound] });
    open.push(pusher);
    await pusher.send(bytes('to nanocat'));
    await expect(pulling.waitForLine((line) => line === 'to nanocat', 5000)).resolves.toBe('to nanocat');
  });

  it('send after close rejects with CLOSED', async () => {
    const pusher = createPusher({ bind: [await newEndpoint('ipc')] });
    await pusher.close();
    await expect(pusher.send(bytes('x'))).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('pair', () => {
  it('two pair sockets talk both ways, in order', async () => {
    const endpoint = await newEndpoint('ipc');
    const left = createPair({ bind: [endpoint] });
    const right = createPair({ connect: [endpoint] });
    open.push(left, right);
    for (let i = 0; i < 5; i++) await left.send(bytes(`l${i}`));
    expect(await take(right, 5)).toEqual(['l0', 'l1', 'l2', 'l3', 'l4']);
    await right.send(bytes('r0'));
    expect(await take(left, 1)).toEqual(['r0']);
  });

  it('nanocat as the other pair answers what we send', async () => {
    const endpoint = await newEndpoint('tcp://127.0.0.1');
    const native = new NativePeer('nanocat', ['--pair', '--bind', endpoint, '--data', 'hi from nanocat', '--interval', '0.1', '--quoted']);
    peers.push(native);
    const pair = createPair({ connect: [endpoint] });
    open.push(pair);
    expect(await take(pair, 1)).toEqual(['hi from nanocat']);
    await pair.send(bytes('hi back'));
    await expect(native.waitForLine((line) => line === 'hi back', 5000)).resolves.toBe('hi back');
  });
});
