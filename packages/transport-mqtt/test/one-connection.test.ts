// Several subscribers on one transport share its one MQTT connection, where the broker keeps one
// subscription per filter: repliers of one service and members of one queue group on the same
// transport still share the messages (each reaches one of them), plain subscribers each get all,
// and a shared and a plain subscription of one topic stay apart.

import { Reader, checkBroker, uniqueName } from '@msg/conformance';
import { type Transport, text } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../src/index.js';

const skip = await checkBroker('Mosquitto', '127.0.0.1', 1883);
const url = 'mqtt://127.0.0.1:1883';
let open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});
async function transport(): Promise<Transport> {
  const t = await createMqttTransport({ url });
  open.push(t);
  return t;
}

describe.skipIf(skip)('one transport, several subscribers', () => {
  it('two repliers of one service on one transport: each request is served once, and both serve', async () => {
    const [server, client] = [await transport(), await transport()];
    const service = uniqueName('one');
    const served = [0, 0];
    await server.reply(service, (request) => (served[0]!++, request.data));
    await server.reply(service, (request) => (served[1]!++, request.data));
    for (let i = 0; i < 20; i++) await client.request(service, text.encode(String(i)));
    expect(served[0]! + served[1]!).toBe(20);
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
  });

  it('a queue group on one transport shares the messages, beside a plain subscriber of the same topic that gets all', async () => {
    const [subscriber, publisher] = [await transport(), await transport()];
    const topic = uniqueName('one');
    const group = uniqueName('g').replaceAll('.', '_');
    const seen: string[] = [];
    await subscriber.subscribe(topic, { queue: group, handler: (m) => void seen.push(`a${text.decode(m.data)}`) });
    await subscriber.subscribe(topic, { queue: group, handler: (m) => void seen.push(`b${text.decode(m.data)}`) });
    const plain = new Reader(await subscriber.subscribe(topic));
    for (let i = 0; i < 20; i++) await publisher.publish(topic, text.encode(String(i)));
    expect((await plain.take(20, 2000)).length).toBe(20);
    expect(await plain.next(200)).toBeUndefined();
    expect(seen).toHaveLength(20);
    expect(new Set(seen.map((s) => s.slice(1))).size).toBe(20);
  });
});
