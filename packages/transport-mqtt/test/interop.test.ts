// Native MQTT peers on the shared broker, both directions: mosquitto_pub and mosquitto_sub see our
// topics with `/` for `.`, our headers as MQTT 5 user properties, and our wildcards as `+` and `#`.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { Reader, checkBroker } from '@msg/conformance';
import { type Transport, text } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../src/index.js';

const run = promisify(execFile);
const skip = await checkBroker('Mosquitto', '127.0.0.1', 1883);
const url = 'mqtt://127.0.0.1:1883';
const unique = () => `interop${process.pid}${Math.random().toString(36).slice(2, 8)}`;
const common = ['-h', '127.0.0.1', '-p', '1883', '-V', 'mqttv5'];

let open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.map((t) => t.close()));
  open = [];
});
async function transport(qos: 0 | 1 = 0): Promise<Transport> {
  const t = await createMqttTransport({ url, qos });
  open.push(t);
  return t;
}

/**
 * Starts mosquitto_sub and resolves once it has subscribed (its -d output says SUBACK). Line-buffered
 * through stdbuf: into a pipe, its output would otherwise come only at exit.
 */
async function nativeSubscriber(args: string[]): Promise<{ child: ChildProcess; output: Promise<string> }> {
  const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', ...common, '-d', '-W', '10', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const output = new Promise<string>((resolve) => child.once('exit', () => resolve(out)));
  await new Promise<void>((resolve, reject) => {
    const check = () => (out.includes('SUBACK') ? resolve() : undefined);
    child.stdout?.on('data', check);
    child.once('exit', () => reject(new Error(`mosquitto_sub exited before subscribing: ${out}`)));
  });
  return { child, output };
}

describe.skipIf(skip)('native peers (mosquitto_pub, mosquitto_sub)', () => {
  it.each([0, 1] as const)('mosquitto_pub reaches our QoS %i subscriber, with its user properties as headers', async (qos) => {
    const t = await transport(qos);
    const base = unique();
    const reader = new Reader(await t.subscribe(`${base}.orders.*`));
    await run('mosquitto_pub', [...common, '-q', String(qos), '-t', `${base}/orders/created`, '-m', 'from native', '-D', 'publish', 'user-property', 'region', 'eu']);
    const [message] = await reader.take(1, 5000);
    expect(message?.subject).toBe(`${base}.orders.created`);
    expect(text.decode(message?.data ?? new Uint8Array())).toBe('from native');
    expect(message?.headers).toEqual({ region: 'eu' });
  });

  it('our publish reaches mosquitto_sub on the slash-separated topic, with headers as user properties', async () => {
    const t = await transport();
    const base = unique();
    const sub = await nativeSubscriber(['-C', '1', '-F', '%t|%p|%P', '-t', `${base}/#`]);
    await t.publish(`${base}.orders.created`, text.encode('from msg'), { headers: { region: 'eu' } });
    const lines = (await sub.output).split('\n').filter((line) => line.startsWith(base));
    expect(lines).toEqual([`${base}/orders/created|from msg|region:eu`]);
  });

  it('the QoS 1 profile publishes at QoS 1, carrying the message id', async () => {
    const t = await transport(1);
    const base = unique();
    const sub = await nativeSubscriber(['-C', '1', '-q', '1', '-F', '%q|%p|%P', '-t', `${base}/events`]);
    await t.publish(`${base}.events`, text.encode('confirmed'));
    const lines = (await sub.output).split('\n').filter((line) => line.includes('confirmed'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^1\|confirmed\|msg-id:\S+$/);
  });

  it('a native requester with a response topic and correlation data is answered by our replier', async () => {
    const t = await transport();
    const base = unique();
    await t.reply(`${base}.greet`, (request) => text.encode(`hello, ${text.decode(request.data)}`));
    const sub = await nativeSubscriber(['-C', '1', '-F', '%p', '-t', `${base}/replies`]);
    await run('mosquitto_pub', [...common, '-t', `${base}/greet`, '-m', 'native', '-D', 'publish', 'response-topic', `${base}/replies`, '-D', 'publish', 'correlation-data', 'c1']);
    expect((await sub.output).split('\n')).toContain('hello, native');
  });
});
