import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeFaults } from '@msg/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcTransport, grpcCapabilities } from '../src/index.js';

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

const children: ChildProcess[] = [];
beforeAll(async () => {
  // The child runs the compiled package, as a deployed host would.
  await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', 'tsconfig.build.json'], { cwd: packageDir });
}, 120_000);
afterAll(async () => {
  for (const child of children) await kill(child);
});

// The shared fault cases on a host in a process of its own, killed (SIGKILL) and started again on
// the same address: the clients' streams wait for it and carry their registrations again.
let host: { child: ChildProcess; address: string } | undefined;
describeFaults({
  name: 'grpc',
  capabilities: grpcCapabilities,
  hooks: {
    fault: 'the host process is killed (SIGKILL) and started again on its address',
    connect: async () => {
      if (!host) {
        const [child, address] = await startHost('127.0.0.1:0');
        children.push(child);
        host = { child, address };
      }
      return createGrpcTransport({ connect: host.address });
    },
    down: () => kill(host!.child),
    up: async () => {
      const [child] = await startHost(host!.address);
      children.push(child);
      host!.child = child;
    },
  },
});

describe('faults', () => {
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
