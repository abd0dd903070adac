import { checkBroker, describeTransport } from '@msg/conformance';
import { afterAll } from 'vitest';
import { createRedisTransport, redisCapabilities, redisStreamsCapabilities } from '../src/index.js';
import { HOST, PORT, deleteKeys, openAdmin, unique } from './admin.js';

// Every run has its own prefix; its streams and request lists are deleted after it (and would expire).
const prefix = unique('conf');
const skip = await checkBroker('Redis', HOST, PORT);
const base = { host: HOST, port: PORT, prefix, keyExpiryMs: 5 * 60_000 };

describeTransport({ name: 'redis', capabilities: redisCapabilities, skip, connect: () => createRedisTransport(base) });
describeTransport({
  name: 'redis+streams',
  capabilities: redisStreamsCapabilities,
  skip,
  connect: () => createRedisTransport({ ...base, profile: 'streams' }),
});

afterAll(async () => {
  if (skip) return;
  const admin = openAdmin();
  await deleteKeys(admin, prefix);
  await admin.quit();
});
