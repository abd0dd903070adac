// What close keeps: what a transport sent just before it is read by its peers before its sockets close.

import { Reader, str, uniqueName, utf8 } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory, createNanomsgTransport, nanomsgCapabilities } from '../src/index.js';

const settle = nanomsgCapabilities.timing.settleMs;

const open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function pair(listen: string): Promise<[Transport, Transport]> {
  const directory = new Directory();
  const a = await createNanomsgTransport({ directory, listen });
  const b = await createNanomsgTransport({ directory, listen });
  open.push(a, b);
  return [a, b];
}

describe('close', () => {
  it('a message published over TCP just before close is still delivered', async () => {
    const [a, b] = await pair('tcp://127.0.0.1');
    const topic = uniqueName('farewell');
    const reader = new Reader(await a.subscribe(topic));
    await b.publish(topic, utf8('last words'));
    await b.close();
    const [message] = await reader.take(1, settle * 20);
    expect(str(message?.data ?? new Uint8Array())).toBe('last words');
  });

  it('a bus message sent just before close reaches the other member', async () => {
    const [a, b] = await pair('tcp://127.0.0.1');
    const group = uniqueName('farewell');
    const reader = new Reader(await a.join(group));
    const member = await b.join(group);
    await member.send(utf8('last words'));
    await b.close();
    const [message] = await reader.take(1, settle * 20);
    expect(str(message?.data ?? new Uint8Array())).toBe('last words');
  });

});
