// The shared fault cases on a nats-server of this test's own, killed with SIGKILL and started again
// on the same port and store: requests in flight fail with CONNECTION, subscriptions and repliers
// resume, and on JetStream nothing whose publish resolved is lost.

import { describeFaults } from '@msg/conformance';
import type { Transport } from '@msg/core';
import { afterAll, beforeAll } from 'vitest';
import { createNatsTransport, natsCapabilities, natsJetStreamCapabilities } from '../src/index.js';
import { TestServer } from './server.js';

const servers: TestServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.stop())));

for (const jetstream of [false, true]) {
  let server: TestServer;
  beforeAll(async () => {
    server = await TestServer.start({ jetstream });
    servers.push(server);
  });
  describeFaults({
    name: jetstream ? 'nats+jetstream' : 'nats',
    capabilities: jetstream ? natsJetStreamCapabilities : natsCapabilities,
    hooks: {
      fault: 'the server is killed (SIGKILL) and started again',
      connect: (): Promise<Transport> =>
        createNatsTransport({ servers: server.url, reconnectDelay: { min: 50, max: 500 }, ...(jetstream ? { jetstream: { stream: 'FAULTS', subjectPrefix: 'faults' } } : {}) }),
      down: () => server.kill(),
      up: () => server.restart(),
    },
  });
}
