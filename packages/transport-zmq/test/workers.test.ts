// The worker shape of a replier: a ROUTER front, N REP workers behind it.

import type { Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory, createZmqTransport } from '../src/index.js';

const open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('workers', () => {
  it('a replier with workers: 4 answers every request and never runs more than 4 handlers at once', async () => {
    const directory = new Directory();
    const replier = await createZmqTransport({ directory, workers: 4 });
    const requester = await createZmqTransport({ directory });
    open.push(replier, requester);
    let running = 0;
    let most = 0;
    await replier.reply('work.slow', async (request) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return request.data;
    });
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => requester.request('work.slow', Uint8Array.of(i))));
    replies.forEach((reply, i) => expect(reply.data[0]).toBe(i));
    expect(most).toBe(4);
  });
});
