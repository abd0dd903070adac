// msg over gRPC: one msg process hosts (grpc+listen://), the other connects (grpc://).
import { uniqueName, freePort } from '@msg/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { msg, start } from './run.js';

const running: Array<{ kill(): void }> = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill();
});

describe('msg on grpc', () => {
  it('rep hosting a service answers req connecting to it', async () => {
    const port = await freePort();
    const service = uniqueName('cli');
    const { child, done } = await start(
      ['rep', '--transport', 'grpc', '--url', `grpc+listen://127.0.0.1:${port}`, '--service', service, '--echo', '--count', '1'],
      /msg: serving/,
    );
    running.push(child);
    const req = await msg(['req', '--transport', 'grpc', '--url', `grpc://127.0.0.1:${port}`, '--service', service, '--data', 'over h2']);
    expect(req).toMatchObject({ code: 0, stdout: 'over h2\n' });
    expect((await done).code).toBe(0);
  });

  it('sub hosting a topic prints what pub sends through it', async () => {
    const port = await freePort();
    const topic = uniqueName('cli');
    const { child, done } = await start(
      ['sub', '--transport', 'grpc', '--url', `grpc+listen://127.0.0.1:${port}`, '--topic', topic, '--count', '2'],
      /msg: subscribed/,
    );
    running.push(child);
    const pub = await msg(['pub', '--transport', 'grpc', '--url', `grpc://127.0.0.1:${port}`, '--topic', topic], { input: 'a\nb\n' });
    expect(pub.code).toBe(0);
    expect(await done).toMatchObject({ code: 0, stdout: 'a\nb\n' });
  });

  it('a client with no host to reach exits 4', async () => {
    const port = await freePort();
    const req = await msg(['req', '--transport', 'grpc', '--url', `grpc://127.0.0.1:${port}`, '--service', 'x', '--data', 'x', '--timeout', '3000']);
    expect(req.code).toBe(4);
    expect(req.stderr).toMatch(/^msg: CONNECTION: /);
  });
});
