// msg on the brokerless transports with no endpoint given: rep and req (and the other verbs) in two
// processes find each other by name through UDP discovery, as `msg rep` and `msg req` typed in two
// terminals would.
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '@msg/conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { msg, start } from './run.js';

// A secret of this run, so no other msg on this host (another test run, say) is listed.
process.env.MSG_DISCOVERY_SECRET = randomBytes(16).toString('hex');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe.each(['zmq', 'nanomsg'])('msg --transport %s with no endpoint', (transport) => {
  it('rep --service echo in one process answers req --service echo in another', async () => {
    const service = `echo.${randomBytes(4).toString('hex')}`;
    const { child, done } = await start(['rep', '--transport', transport, '--service', service, '--echo', '--count', '1'], /serving/);
    children.push(child);
    const result = await msg(['req', '--transport', transport, '--service', service, '--data', 'hello', '--timeout', '10000']);
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: 'hello\n' });
    expect(await done).toMatchObject({ code: 0, stdout: 'hello\n' });
  });

  it('req for a service nobody serves exits 3 with NO_RESPONDERS once discovery has heard everyone', async () => {
    const result = await msg(['req', '--transport', transport, '--service', `nobody.${randomBytes(4).toString('hex')}`, '--data', 'x', '--timeout', '10000']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/NO_RESPONDERS/);
  });

  it('with a discovery node (msg discovery --bind EP), rep and req given only --discovery EP find each other', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const node = await start(['discovery', '--transport', transport, '--bind', endpoint, '--interval', '200'], /discovery node/);
    children.push(node.child);
    const service = `echo.${randomBytes(4).toString('hex')}`;
    const { child, done } = await start(['rep', '--transport', transport, '--discovery', endpoint, '--service', service, '--echo', '--count', '1'], /serving/);
    children.push(child);
    // The replier is found at the node's next survey: ask until then, a bounded number of times.
    let result = await msg(['req', '--transport', transport, '--discovery', endpoint, '--service', service, '--data', 'via node', '--timeout', '5000']);
    for (let i = 0; i < 10 && result.code === 3; i++) result = await msg(['req', '--transport', transport, '--discovery', endpoint, '--service', service, '--data', 'via node', '--timeout', '5000']);
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: 'via node\n' });
    expect(await done).toMatchObject({ code: 0, stdout: 'via node\n' });
  });

  it('sub --topic in one process receives what pub --topic publishes in another', async () => {
    const topic = `news.${randomBytes(4).toString('hex')}`;
    const { child, done } = await start(['sub', '--transport', transport, '--topic', topic, '--count', '1'], /subscribed/);
    children.push(child);
    // Until the subscriber has found this publisher and its subscription is in place, at most 100 times.
    const published = await msg(['pub', '--transport', transport, '--topic', topic, '--data', 'sunny', '--count', '100', '--interval', '50']);
    expect(published.code).toBe(0);
    expect(await done).toMatchObject({ code: 0, stdout: 'sunny\n' });
  });
});
