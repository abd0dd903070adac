import { checkBroker, describeTransport } from '@msg/conformance';
import { createRedisTransport, redisCapabilities, redisStreamsCapabilities } from '../src/index.js';

// Every run has its own prefix, and the streams and request lists it leaves expire within minutes.
const prefix = `msgtest-conf-${process.pid}`;
const skip = await checkBroker('Redis', '127.0.0.1', 6379);
const base = { host: '127.0.0.1', port: 6379, prefix, keyExpiryMs: 5 * 60_000 };

describeTransport({ name: 'redis', capabilities: redisCapabilities, skip, connect: () => createRedisTransport(base) });
describeTransport({
  name: 'redis+streams',
  capabilities: redisStreamsCapabilities,
  skip,
  connect: () => createRedisTransport({ ...base, profile: 'streams' }),
});
