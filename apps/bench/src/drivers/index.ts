// Every transport the bench knows: the adapters (through @msg/core), the raw client baselines and
// plain TCP. Drivers load lazily, so an adapter whose package has not been built yet is skipped with
// that reason instead of breaking the bench.
import type { Driver, DriverInfo } from './driver.js';
import { adapterDriver } from './adapter.js';
import { freePort } from './ports.js';

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

/** An adapter on a broker: every link connects to the same URL. */
function brokerAdapter(name: string, url: string, server: { host: string; port: number }): DriverInfo {
  return {
    name,
    kind: 'adapter',
    embedded: false,
    server,
    async load() {
      await importAdapter(name);
      return adapterDriver(async () => ({ url }));
    },
  };
}

/** A brokerless adapter: the first role binds a loopback endpoint, the others connect to it. */
function brokerlessAdapter(name: string, scheme: string): DriverInfo {
  return {
    name,
    kind: 'adapter',
    embedded: true,
    async load() {
      await importAdapter(name);
      return adapterDriver(async (mode, address) => {
        if (mode === 'connect' && address) return { url: address };
        const url = `${scheme}://127.0.0.1:${await freePort()}`;
        return { url, address: url };
      });
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
  {
    name: 'inproc',
    kind: 'adapter',
    embedded: true,
    sameProcess: true,
    async load() {
      await importAdapter('inproc');
      return adapterDriver(async (_mode, _address, runId) => ({ url: `inproc://bench-${runId}` }));
    },
  },
  { name: 'tcp', kind: 'tcp', embedded: true, load: async () => (await import('./tcp.js')).tcpDriver },
  brokerlessAdapter('zmq', 'zmq+tcp'),
  brokerlessAdapter('nanomsg', 'nanomsg+tcp'),
  brokerlessAdapter('grpc', 'grpc'),
  brokerAdapter('nats', 'nats://127.0.0.1:4222', NATS),
  brokerAdapter('redis', 'redis://127.0.0.1:6379', REDIS),
  brokerAdapter('amqp', 'amqp://guest:guest@127.0.0.1:5672', RABBITMQ),
  brokerAdapter('kafka', 'kafka://127.0.0.1:9092', KAFKA),
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
