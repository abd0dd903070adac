// A subscriber that reads nothing while 3,000 messages are published, then reads them all. Its
// link's credit is `maxPending` and goes back only as messages are consumed, so it holds at most
// that many and the broker keeps the rest: none is dropped, at most once as at least once.

import { Reader, checkBroker, uniqueName } from '@msg/conformance';
import { expect, it } from 'vitest';
import { createAmqp1Transport } from '../src/index.js';

const skip = await checkBroker('ActiveMQ (AMQP 1.0)', '127.0.0.1', 5673);
const url = 'amqp1://127.0.0.1:5673';

it.skipIf(skip).each([false, true])('confirm: %s, a subscriber 3,000 messages behind with maxPending 100 loses none, and drops none', async (confirm) => {
  const [a, b] = [await createAmqp1Transport({ url, confirm }), await createAmqp1Transport({ url, confirm })];
  try {
    const topic = uniqueName('slow');
    const stream = await a.subscribe(topic, { maxPending: 100 });
    const reader = new Reader(stream);
    await Promise.all(Array.from({ length: 3000 }, (_, i) => b.publish(topic, Buffer.from(String(i)))));
    const got: number[] = [];
    for (let message = await reader.next(2000); message; message = await reader.next(2000)) got.push(Number(Buffer.from(message.data).toString()));
    expect(stream.dropped).toBe(0);
    expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}, 60_000);
