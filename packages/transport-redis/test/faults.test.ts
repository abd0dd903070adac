// The shared fault cases, twice: on a redis-server of this test's own, killed with SIGKILL and
// started again on its append-only file (fsynced at every write); and on the shared server, with
// every connection of the case's transports cut (CLIENT KILL) while the server stays up.

import { checkBroker, describeFaults, uniqueName } from '@msg/conformance';
import { afterAll, beforeAll } from 'vitest';
import { createRedisTransport, redisCapabilities, redisStreamsCapabilities } from '../src/index.js';
import { HOST, PORT, cutConnections, deleteKeys, openAdmin } from './admin.js';
import { TestServer } from './server.js';

const profiles = [
  { profile: 'pubsub', name: 'redis', capabilities: redisCapabilities },
  { profile: 'streams', name: 'redis+streams', capabilities: redisStreamsCapabilities },
] as const;

let server: TestServer;
beforeAll(async () => {
  server = await TestServer.start({ persistence: true });
});
afterAll(() => server?.stop());

for (const { profile, name, capabilities } of profiles) {
  describeFaults({
    name,
    capabilities,
    hooks: {
      fault: 'the server is killed (SIGKILL) and started again on its append-only file',
      connect: () => createRedisTransport({ host: HOST, port: server.port, profile, claimIdleMs: 1000 }),
      down: () => server.kill(),
      up: () => server.restart(),
    },
  });
}

// On the shared server: the cases' transports share a connection name, so that only theirs are cut.
const skip = await checkBroker('Redis', HOST, PORT);
const prefix = uniqueName('cut').replaceAll('.', '_');
const admin = skip ? undefined : openAdmin();
afterAll(async () => {
  if (!admin) return;
  await deleteKeys(admin, prefix);
  await admin.quit();
});
for (const { profile, name, capabilities } of profiles) {
  describeFaults({
    name,
    capabilities,
    skip,
    hooks: {
      fault: 'every connection of its transports is cut (CLIENT KILL)',
      connect: () => createRedisTransport({ host: HOST, port: PORT, prefix, profile, connectionName: prefix, claimIdleMs: 1000 }),
      down: async () => void (await cutConnections(admin!, prefix)),
      up: async () => undefined,
    },
  });
}
