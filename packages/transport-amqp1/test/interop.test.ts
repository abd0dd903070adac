// A native AMQP 1.0 peer, Qpid Proton's Python binding (Debian's python3-qpid-proton), on the shared
// broker in both directions: it sees our topics as `topic://VirtualTopic.<name>` and our services as
// `queue://<name>`, our headers as application properties, our data as the body; and our replier
// answers its request sent with a dynamic reply queue and a correlation id.

import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Reader, checkBroker } from '@msg/conformance';
import { type Transport, text } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createAmqp1Transport } from '../src/index.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const peer = fileURLToPath(new URL('peers/proton_peer.py', import.meta.url));
const brokerUrl = 'amqp://127.0.0.1:5673';

function protonMissing(): string | undefined {
  if (spawnSync(PYTHON, ['-c', 'import proton'], { stdio: 'ignore' }).status === 0) return undefined;
  const reason = `${PYTHON} with Qpid Proton is not available (Debian: apt-get install python3-qpid-proton)`;
  if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${reason} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
  console.warn(`\n*** SKIPPING: ${reason} ***\n`);
  return reason;
}

const skip = (await checkBroker('ActiveMQ (AMQP 1.0)', '127.0.0.1', 5673)) ?? protonMissing();
const unique = () => `interop${process.pid}${Math.random().toString(36).slice(2, 8)}`;

let open: Transport[] = [];
let children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children = [];
  await Promise.all(open.map((t) => t.close()));
  open = [];
});
async function transport(confirm = false): Promise<Transport> {
  const t = await createAmqp1Transport({ url: 'amqp1://127.0.0.1:5673', confirm });
  open.push(t);
  return t;
}

/** Starts a native receiver and resolves once it has attached; `lines` yields what it printed after. */
async function nativeReceiver(address: string, count: number): Promise<() => Promise<string[]>> {
  const child = spawn(PYTHON, [peer, 'receive', brokerUrl, address, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 10_000;
  while (lines[0] !== 'ready') {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the native receiver did not attach: ${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return async () => {
    expect(await exited).toBe(0);
    return lines.slice(1);
  };
}

describe.skipIf(skip)('a native peer (Qpid Proton, Python)', () => {
  it.each([false, true])('its message to our topic reaches our subscriber (confirm: %s), with its application properties as headers', async (confirm) => {
    const t = await transport(confirm);
    const base = unique();
    const reader = new Reader(await t.subscribe(`${base}.orders.*`));
    await run(PYTHON, [peer, 'send', brokerUrl, `topic://VirtualTopic.${base}.orders.created`, 'from native', 'region=eu'], { timeout: 20_000 });
    const [message] = await reader.take(1, 5000);
    expect(message?.subject).toBe(`${base}.orders.created`);
    expect(text.decode(message?.data ?? new Uint8Array())).toBe('from native');
    expect(message?.headers).toEqual({ region: 'eu' });
  });

  it('our publish reaches it on the topic address, with headers as application properties', async () => {
    const t = await transport();
    const base = unique();
    const lines = await nativeReceiver(`topic://VirtualTopic.${base}.>`, 1);
    await t.publish(`${base}.orders.created`, text.encode('from msg'), { headers: { region: 'eu' } });
    const [got] = (await lines()).map((line) => JSON.parse(line) as { to: string; body: string; properties: Record<string, string>; durable: boolean });
    expect(got).toMatchObject({ to: `topic://VirtualTopic.${base}.orders.created`, body: 'from msg', properties: { region: 'eu' }, durable: false });
  });

  it('the confirm profile publishes persistent messages carrying the message id', async () => {
    const t = await transport(true);
    const base = unique();
    const lines = await nativeReceiver(`topic://VirtualTopic.${base}.events`, 1);
    await t.publish(`${base}.events`, text.encode('confirmed'));
    const [got] = (await lines()).map((line) => JSON.parse(line) as { body: string; id: string | null; durable: boolean });
    expect(got).toMatchObject({ body: 'confirmed', durable: true });
    expect(got?.id).toMatch(/\S+/);
  });

  it('its request with a dynamic reply queue and a correlation id is answered by our replier', async () => {
    const t = await transport();
    const base = unique();
    await t.reply(`${base}.greet`, (request) => text.encode(`hello, ${text.decode(request.data)}`));
    const { stdout } = await run(PYTHON, [peer, 'request', brokerUrl, `queue://${base}.greet`, 'native'], { timeout: 20_000 });
    expect(JSON.parse(stdout.trim())).toEqual({ body: 'hello, native', correlation_id: 'native-1' });
  });
});
