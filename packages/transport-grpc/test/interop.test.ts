import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GrpcTransport, createGrpcTransport, protoPath } from '../src/index.js';

const run = promisify(execFile);
// Debian's interpreter, which has python3-grpcio and python3-grpc-tools.
const python = '/usr/bin/python3';
const script = fileURLToPath(new URL('./interop.py', import.meta.url));
const maxPayload = 64 * 1024;

describe('interop with a Python gRPC client', () => {
  let stubs: string;
  let host: GrpcTransport;

  /** Runs one case of interop.py against the host and returns what it printed. */
  async function python3(testCase: string, ...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(python, [script, stubs, host.address, testCase, ...args], { timeout: 30_000 });
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  beforeAll(async () => {
    stubs = mkdtempSync(join(tmpdir(), 'msg-grpc-py-'));
    await run(python, ['-m', 'grpc_tools.protoc', `-I${dirname(protoPath)}`, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, basename(protoPath)]);
    host = await createGrpcTransport({ listen: '127.0.0.1:0', maxPayload });
    await host.reply('interop.echo', (request) => ({ data: Buffer.concat([Buffer.from('echo:'), request.data]), headers: { lang: request.headers.lang ?? '' } }));
    await host.reply('interop.fail', () => {
      throw Object.assign(new Error('out of stock'), { code: 'E_STOCK' });
    });
    await host.reply('interop.silent', () => new Promise(() => undefined));
  }, 60_000);

  afterAll(async () => {
    await host?.close();
    rmSync(stubs, { recursive: true, force: true });
  });

  it('calls Request and gets the reply with its headers', async () => {
    expect(await python3('echo')).toEqual({ data: 'echo:from python', headers: { lang: 'python' }, kind: 'REPLY', id: 'py-1' });
  });

  it("sees a handler's error in the reply's error field", async () => {
    expect(await python3('error')).toEqual({ error: 'out of stock', code: 'E_STOCK' });
  });

  it('gets NOT_FOUND for a service nobody serves', async () => {
    expect(await python3('nobody')).toMatchObject({ status: 'NOT_FOUND' });
  });

  it('gets DEADLINE_EXCEEDED when the replier is slower than its deadline', async () => {
    expect(await python3('deadline')).toMatchObject({ status: 'DEADLINE_EXCEEDED' });
  });

  it('an oversized request gets RESOURCE_EXHAUSTED and the host keeps serving', async () => {
    expect(await python3('oversized', String(maxPayload * 3))).toMatchObject({ status: 'RESOURCE_EXHAUSTED' });
    expect(await python3('echo')).toMatchObject({ data: 'echo:from python' });
  });

  it('a malformed request gets a clean error status and the host keeps serving', async () => {
    const answer = await python3('malformed');
    expect(['INTERNAL', 'INVALID_ARGUMENT']).toContain(answer.status);
    expect(await python3('echo')).toMatchObject({ data: 'echo:from python' });
  });
});
