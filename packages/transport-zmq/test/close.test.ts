// What close keeps: messages sent just before it, and the connections of publishers still listed.

import { Reader, str, uniqueName, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory, createZmqTransport, zmqCapabilities } from '../src/index.js';

const settle = zmqCapabilities.timing.settleMs;

const open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function pair(directory = new Directory()): Promise<[Transport, Transport, Directory]> {
  const a = await createZmqTransport({ directory });
  const b = await createZmqTransport({ directory });
  open.push(a, b);
  return [a, b, directory];
}

describe('close', () => {
  it('a bus message sent just before close reaches the other member', async () => {
    const [a, b] = await pair();
    const group = uniqueName('farewell');
    const reader = new Reader(await a.join(group));
    const member = await b.join(group);
    await member.send(utf8('last words'));
    await b.close();
    const [message] = await reader.take(1, settle * 20);
    expect(str(message?.data ?? new Uint8Array())).toBe('last words');
  });

  it('a replier removed from the directory with a request in flight still delivers that reply, and gets no new request', async () => {
    const served = new Directory();
    const a = await createZmqTransport({ directory: served });
    const asking = new Directory();
    const b = await createZmqTransport({ directory: asking });
    open.push(a, b);
    const service = uniqueName('leaving');
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    await a.reply(service, async (request) => {
      await answered;
      return request.data;
    });
    const [endpoint] = served.services(service);
    asking.addService(service, endpoint as string);
    const inFlight = b.request(service, utf8('in flight'), { timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, settle));
    // As discovery does when the replier's goodbye arrives before its last reply.
    asking.removeService(service, endpoint as string);
    release();
    expect(str((await inFlight).data)).toBe('in flight');
    await expect(b.request(service, utf8('next'), { timeout: 1000 })).rejects.toMatchObject({ code: 'NO_RESPONDERS' });
  });

  it('a publisher removed from the directory and listed again at once stays connected, once', async () => {
    const directory = new Directory();
    const a = await createZmqTransport({ directory });
    const b = await createZmqTransport({ directory, linger: 0 });
    open.push(a, b);
    const topic = uniqueName('relisted');
    const reader = new Reader(await a.subscribe(topic));
    const listed = directory.peers()[1]; // b's, listed after a's
    if (!listed) throw new Error('b is not listed');
    directory.removePeer(listed);
    directory.addPeer(listed);
    // Past the time after which a publisher that left without a goodbye is disconnected (linger 0).
    await new Promise((resolve) => setTimeout(resolve, 500 + settle * 2));
    await b.publish(topic, utf8('still here'));
    const [message] = await reader.take(1, settle * 20);
    expect(str(message?.data ?? new Uint8Array())).toBe('still here');
    expect(await reader.next(settle * 2)).toBeUndefined();
  });
});
