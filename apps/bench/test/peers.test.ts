// The peers' drivers on the real NATS and Redis: the bytes a client sends come back unchanged
// through NestJS's and Moleculer's own packets, and a request nobody serves fails in time.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type Link, driverInfo } from '../src/drivers/index.js';
import { answers } from '../src/drivers/ports.js';

const PEERS = ['nestjs-nats', 'moleculer-nats', 'nestjs-redis', 'moleculer-redis'];
const opened: Link[] = [];

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((link) => link.close()));
});

/** undefined when the peer's broker answers, else why the test skips (a failure in CI). */
async function brokerMissing(name: string): Promise<string | undefined> {
  const { host, port } = driverInfo(name)!.server!;
  if (await answers(host, port)) return undefined;
  const reason = `${name}: no server answers on ${host}:${port}; start it with \`pnpm brokers up\``;
  if (process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${reason} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
  console.warn(`\n*** SKIPPING: ${reason} ***\n`);
  return reason;
}

async function open(name: string, mode: 'bind' | 'connect', runId: string): Promise<Link> {
  const driver = await driverInfo(name)!.load();
  const link = await driver.open(mode, undefined, { runId, size: 1024 });
  opened.push(link);
  return link;
}

describe.each(PEERS)('%s', (name) => {
  it('echoes every byte of a request back to its client, across two clients', async ({ skip }) => {
    const missing = await brokerMissing(name);
    if (missing) return skip(missing);
    const runId = randomBytes(4).toString('hex');
    const service = `bench.${runId}.echo`;
    const server = await open(name, 'bind', runId);
    await server.serve(service, 1);
    const clients = [await open(name, 'connect', runId), await open(name, 'connect', runId)];
    const requests = clients.flatMap((client) => [randomBytes(1024), randomBytes(7), new Uint8Array(0)].map((data) => ({ client, data: new Uint8Array(data) })));
    const replies = await Promise.all(requests.map(({ client, data }) => client.request(service, data, 5_000)));
    for (const [i, reply] of replies.entries()) expect(Buffer.from(reply).equals(Buffer.from(requests[i]!.data)), `reply ${i}`).toBe(true);
  });

  it('rejects a request that nobody serves within its timeout', async ({ skip }) => {
    const missing = await brokerMissing(name);
    if (missing) return skip(missing);
    const runId = randomBytes(4).toString('hex');
    const client = await open(name, 'connect', runId);
    await expect(client.request(`bench.${runId}.nobody`, new Uint8Array(8), 300)).rejects.toThrow();
  });
});
