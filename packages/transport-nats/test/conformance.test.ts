import { checkBroker, describeTransport } from '@msg/conformance';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll } from 'vitest';
import { createNatsTransport, natsCapabilities, natsJetStreamCapabilities } from '../src/index.js';

const server = 'nats://127.0.0.1:4222';
const skip = await checkBroker('NATS', '127.0.0.1', 4222);

describeTransport({ name: 'nats', capabilities: natsCapabilities, skip, connect: () => createNatsTransport({ servers: server }) });

// The durable profile gets a stream and subject prefix of its own, removed after the run, so that
// it shares the server with other users without touching their streams.
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const jetstream = { stream: `CONFORMANCE_${run}`, subjectPrefix: `conformance_${run}` };
describeTransport({
  name: 'nats+jetstream',
  capabilities: natsJetStreamCapabilities,
  skip,
  connect: () => createNatsTransport({ servers: server, jetstream }),
});

afterAll(async () => {
  if (skip) return;
  const nc = await connect({ servers: server });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(jetstream.stream).catch(() => undefined); // no stream from an earlier run: nothing to delete
  await nc.close();
});
