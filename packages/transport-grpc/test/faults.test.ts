import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StatusLog } from '@msg/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcTransport, createGrpcTransport } from '../src/index.js';

const utf8 = (value: string) => Buffer.from(value);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/host.mjs', import.meta.url));

/** Starts a hosting node in a child process and resolves to it and its address once it listens. */
async function startHost(listen: string): Promise<[ChildProcess, string]> {
  const child = spawn(process.execPath, [fixture, listen], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    output += chunk.toString();
    if (output.includes('\n')) break;
  }
  if (!output.includes('\n')) throw new Error(`the host process exited before it listened (code ${child.exitCode})`);
  return [child, output.trim()];
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('faults', () => {
  const children: ChildProcess[] = [];
  let client: GrpcTransport | undefined;

  beforeAll(async () => {
    // The child runs the compiled package, as a deployed host would.
    await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', 'tsconfig.build.json'], { cwd: packageDir });
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    for (const child of children) await kill(child);
  });

  it('a killed host fails the requests in flight with CONNECTION; the client comes back with its registrations', async () => {
    const [first, address] = await startHost('127.0.0.1:0');
    children.push(first);
    client = await createGrpcTransport({ connect: address });
    const watched = new StatusLog(client);
    await client.reply('fault.client', (request) => utf8(`client:${text(request.data)}`));
    const news = (await client.subscribe('fault.news'))[Symbol.asyncIterator]();

    const inFlight = Promise.allSettled(Array.from({ length: 5 }, () => client!.request('fault.hang', utf8('?'), { timeout: 60_000 })));
    // Requests on one stream reach the host in order: once this one is answered, the five are there.
    expect(text((await client.request('fault.echo', utf8('before'))).data)).toBe('before');
    await kill(first);
    const outcomes = await inFlight;
    expect(outcomes.length).toBe(5);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'CONNECTION' });
    }

    const [second] = await startHost(address);
    children.push(second);
    // The stream waits for the host to come back, then carries this request, after the client's
    // registrations, which it sends again first.
    expect(text((await client.request('fault.echo', utf8('after'), { timeout: 15_000 })).data)).toBe('after');
    expect(text((await client.request('fault.relay', utf8('again'))).data)).toBe('client:again');
    await client.request('fault.announce', utf8('resubscribed'));
    expect(text((await news.next()).value.data)).toBe('resubscribed');

    // A user watching status() saw the stream lost, the reopen attempts and the recovery, in order.
    console.info(`grpc faults: status events ${watched.types().join(' → ')}`);
    expect(watched.recovered()).toBe(true);
    expect(watched.events[0]).toMatchObject({ type: 'disconnected', error: { code: 'CONNECTION' } });
  }, 60_000);

  it('close with a host that stopped reading ends within closeTimeout, with a subscription still open', async () => {
    const [stuck, address] = await startHost('127.0.0.1:0');
    children.push(stuck);
    const doomed = await createGrpcTransport({ connect: address, closeTimeout: 500 });
    await doomed.subscribe('fault.stuck');
    expect(text((await doomed.request('fault.echo', utf8('alive'))).data)).toBe('alive');
    // Frozen, not gone: the connection stays up, and nothing the client sends is read or answered.
    stuck.kill('SIGSTOP');
    await doomed.publish('fault.stuck', utf8('into the void'));
    // Leaving the subscription waits for the host's word and the stream for the host's end: both
    // are bounded, so close returns (the test's own timeout is far above the bound).
    await doomed.close();
    expect(doomed.closed).toBe(true);
    stuck.kill('SIGCONT');
  }, 30_000);
});
