// Every transport the bench knows: the adapters (through @msg/core), the raw client baselines and
// plain TCP. Drivers load lazily, so an adapter whose package has not been built yet is skipped with
// that reason instead of breaking the bench.
import { connect } from '@msg/core';
import type { Driver, DriverInfo } from './driver.js';
import { type Wiring, adapterDriver, brokerWiring, grpcWiring, zmqWiring } from './adapter.js';

export type { Driver, DriverInfo, DriverKind, Link, LinkOptions } from './driver.js';

async function importAdapter(name: string): Promise<void> {
  try {
    await import(`@msg/transport-${name}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      throw new Error(`@msg/transport-${name} is not built yet`, { cause: error });
    }
    throw error;
  }
}

function adapter(name: string, wiring: Wiring, server?: { host: string; port: number }): DriverInfo {
  return {
    name,
    kind: 'adapter',
    embedded: !server,
    server,
    async load() {
      await importAdapter(name);
      return adapterDriver(wiring);
    },
  };
}

function raw(name: string, baselineOf: string, load: () => Promise<Driver>, server?: { host: string; port: number }): DriverInfo {
  return { name, kind: 'raw', baselineOf, embedded: !server, server, load };
}

const NATS = { host: '127.0.0.1', port: 4222 };
const REDIS = { host: '127.0.0.1', port: 6379 };
const RABBITMQ = { host: '127.0.0.1', port: 5672 };
const KAFKA = { host: '127.0.0.1', port: 9092 };

export const catalogue: readonly DriverInfo[] = [
  { ...adapter('inproc', async (_mode, _address, runId) => ({ transport: await connect(`inproc://bench-${runId}`) })), sameProcess: true },
  { name: 'tcp', kind: 'tcp', embedded: true, load: async () => (await import('./tcp.js')).tcpDriver },
  adapter('zmq', zmqWiring),
  adapter('nanomsg', async () => {
    throw new Error('the nanomsg adapter is not wired into the bench yet');
  }),
  adapter('grpc', grpcWiring),
  adapter('nats', brokerWiring('nats://127.0.0.1:4222'), NATS),
  adapter('redis', brokerWiring('redis://127.0.0.1:6379'), REDIS),
  adapter('amqp', brokerWiring('amqp://guest:guest@127.0.0.1:5672'), RABBITMQ),
  adapter('kafka', brokerWiring('kafka://127.0.0.1:9092'), KAFKA),
  raw('zmq-raw', 'zmq', async () => (await import('./raw-zmq.js')).rawZmqDriver),
  raw('nanomsg-raw', 'nanomsg', async () => (await import('./raw-nanomsg.js')).rawNanomsgDriver),
  raw('nats-raw', 'nats', async () => (await import('./raw-nats.js')).rawNatsDriver, NATS),
  raw('redis-raw', 'redis', async () => (await import('./raw-redis.js')).rawRedisDriver, REDIS),
  raw('amqp-raw', 'amqp', async () => (await import('./raw-amqp.js')).rawAmqpDriver, RABBITMQ),
  raw(
    'kafka-raw',
    'kafka',
    async () => {
      throw new Error('the kafkajs baseline waits for the Kafka broker script to land');
    },
    KAFKA,
  ),
  raw('grpc-raw', 'grpc', async () => {
    throw new Error('the grpc-js baseline waits for the gRPC adapter and its .proto');
  }),
];

export function driverInfo(name: string): DriverInfo | undefined {
  return catalogue.find((d) => d.name === name);
}
