// Every transport the bench knows: the adapters and their profiles (through @msg/core), the raw client
// baselines, the peers (other frameworks over the same brokers) and plain TCP. Drivers load lazily,
// so an adapter whose package has not been built yet is skipped with that reason instead of
// breaking the bench.
import { connect } from '@msg/core';
import type { Driver, DriverInfo } from './driver.js';
import { type Wiring, adapterDriver, brokerWiring, grpcWiring, nanomsgWiring, zmqWiring } from './adapter.js';
import { deleteKafkaTopics, deleteRedisKeys, deleteStream } from './cleanup.js';

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

/** `name` is the transport as the bench lists it; a profile (`nats+jetstream`) loads its adapter's package. */
function adapter(name: string, semantics: string, wiring: Wiring, server?: { host: string; port: number }): DriverInfo {
  return {
    name,
    kind: 'adapter',
    semantics,
    embedded: !server,
    server,
    async load() {
      await importAdapter(name.split('+')[0]!);
      return adapterDriver(wiring);
    },
  };
}

function raw(name: string, baselineOf: string, semantics: string, load: () => Promise<Driver>, server?: { host: string; port: number }): DriverInfo {
  return { name, kind: 'raw', baselineOf, semantics, embedded: !server, server, load };
}

/** Another framework over the same broker, request/reply only; its semantics say which framework it is. */
function peer(name: string, peerOf: string, semantics: string, load: () => Promise<Driver>, server: { host: string; port: number }): DriverInfo {
  return { name, kind: 'peer', peerOf, semantics, embedded: false, server, requestReplyOnly: true, load };
}

const NATS = { host: '127.0.0.1', port: 4222 };
const REDIS = { host: '127.0.0.1', port: 6379 };
const RABBITMQ = { host: '127.0.0.1', port: 5672 };
const KAFKA = { host: '127.0.0.1', port: 9092 };
const MOSQUITTO = { host: '127.0.0.1', port: 1883 };
const ACTIVEMQ = { host: '127.0.0.1', port: 5673 };

/** Each run keeps to names of its own on the shared brokers, and the binding side deletes them after. */
const jetstream = (runId: string) => ({ stream: `BENCH_${runId}`, subjectPrefix: `bench-js-${runId}`, maxAgeMs: 10 * 60_000, idleConsumerMs: 60_000 });
const redisPrefix = (runId: string) => `bench-${runId}`;

export const catalogue: readonly DriverInfo[] = [
  { ...adapter('inproc', 'in-process, at-most-once', async (_mode, _address, { runId }) => ({ transport: await connect(`inproc://bench-${runId}`) })), sameProcess: true },
  { name: 'tcp', kind: 'tcp', semantics: 'TCP stream, no broker', embedded: true, load: async () => (await import('./tcp.js')).tcpDriver },
  adapter('zmq', 'at-most-once (PUB/SUB, HWM drops)', zmqWiring()),
  // The same with the peer guard on loopback too, as it is by default on any other address.
  adapter('zmq+guard', 'at-most-once (PUB/SUB, HWM drops), every TCP bind behind the peer guard', zmqWiring(true)),
  adapter('nanomsg', 'at-most-once (PUB/SUB, buffer drops)', nanomsgWiring),
  adapter('grpc', 'gRPC streams via the host, at-most-once', grpcWiring),
  adapter('nats', 'at-most-once (core NATS)', brokerWiring('nats://127.0.0.1:4222'), NATS),
  adapter(
    'nats+jetstream',
    'at-least-once (JetStream, PubAck per publish, explicit acks)',
    brokerWiring('nats+jetstream://127.0.0.1:4222', (runId) => ({ jetstream: jetstream(runId) }), (runId) => deleteStream(jetstream(runId).stream)),
    NATS,
  ),
  adapter('redis', 'at-most-once (Redis pub/sub)', brokerWiring('redis://127.0.0.1:6379', (runId) => ({ prefix: redisPrefix(runId), keyExpiryMs: 10 * 60_000 }), (runId) => deleteRedisKeys(redisPrefix(runId))), REDIS),
  adapter(
    'redis+streams',
    'at-least-once (Redis Streams, XADD/XREADGROUP/XACK)',
    brokerWiring('redis+streams://127.0.0.1:6379', (runId) => ({ prefix: redisPrefix(runId), keyExpiryMs: 10 * 60_000 }), (runId) => deleteRedisKeys(redisPrefix(runId))),
    REDIS,
  ),
  adapter('amqp', 'at-most-once (RabbitMQ, no confirms, auto-ack)', brokerWiring('amqp://guest:guest@127.0.0.1:5672'), RABBITMQ),
  adapter('amqp+confirm', 'at-least-once (RabbitMQ publisher confirms, manual acks)', brokerWiring('amqp+confirm://guest:guest@127.0.0.1:5672', () => ({ queueExpiresMs: 120_000 })), RABBITMQ),
  adapter('mqtt', 'at-most-once (MQTT 5, QoS 0)', brokerWiring('mqtt://127.0.0.1:1883'), MOSQUITTO),
  adapter('mqtt+qos1', 'at-least-once (MQTT 5, QoS 1, PUBACK per publish, acked after the handler)', brokerWiring('mqtt+qos1://127.0.0.1:1883'), MOSQUITTO),
  adapter('amqp1', 'at-most-once (AMQP 1.0 on ActiveMQ, pre-settled)', brokerWiring('amqp1://127.0.0.1:5673'), ACTIVEMQ),
  adapter('amqp1+confirm', 'at-least-once (AMQP 1.0 on ActiveMQ, persistent, accepted per publish, settled after the handler)', brokerWiring('amqp1+confirm://127.0.0.1:5673'), ACTIVEMQ),
  adapter('kafka', 'at-least-once (Kafka, acks=all)', brokerWiring('kafka://127.0.0.1:9092', undefined, deleteKafkaTopics), KAFKA),
  raw('zmq-raw', 'zmq', 'at-most-once (PUB/SUB)', async () => (await import('./raw-zmq.js')).rawZmqDriver),
  raw('nanomsg-raw', 'nanomsg', 'at-most-once (PUB/SUB)', async () => (await import('./raw-nanomsg.js')).rawNanomsgDriver),
  raw('nats-raw', 'nats', 'at-most-once (core NATS)', async () => (await import('./raw-nats.js')).rawNatsDriver, NATS),
  raw('redis-raw', 'redis', 'at-most-once (Redis pub/sub)', async () => (await import('./raw-redis.js')).rawRedisDriver, REDIS),
  raw('amqp-raw', 'amqp', 'at-most-once (fanout, no acks)', async () => (await import('./raw-amqp.js')).rawAmqpDriver, RABBITMQ),
  raw('mqtt-raw', 'mqtt', 'at-most-once (MQTT.js, MQTT 5, QoS 0)', async () => (await import('./raw-mqtt.js')).rawMqttDriver, MOSQUITTO),
  raw('amqp1-raw', 'amqp1', 'at-most-once (rhea, AMQP 1.0 on ActiveMQ, pre-settled)', async () => (await import('./raw-amqp1.js')).rawAmqp1Driver, ACTIVEMQ),
  raw('kafka-raw', 'kafka', 'at-least-once (kafkajs, acks=all, one batch per tick)', async () => (await import('./raw-kafka.js')).rawKafkaDriver, KAFKA),
  peer('nestjs-nats', 'nats', 'at-most-once (NestJS 11 microservices over core NATS, request/reply only)', async () => (await import('./peer-nestjs.js')).nestjsDriver('nats'), NATS),
  peer('nestjs-redis', 'redis', 'at-most-once (NestJS 11 microservices over Redis pub/sub, request/reply only)', async () => (await import('./peer-nestjs.js')).nestjsDriver('redis'), REDIS),
  peer('moleculer-nats', 'nats', 'at-most-once (Moleculer 0.14 over core NATS, request/reply only)', async () => (await import('./peer-moleculer.js')).moleculerDriver('nats'), NATS),
  peer('moleculer-redis', 'redis', 'at-most-once (Moleculer 0.14 over Redis pub/sub, request/reply only)', async () => (await import('./peer-moleculer.js')).moleculerDriver('redis'), REDIS),
  raw('grpc-raw', 'grpc', 'gRPC client stream (pubsub), bidirectional stream (echo)', async () => (await import('./raw-grpc.js')).rawGrpcDriver),
];

export function driverInfo(name: string): DriverInfo | undefined {
  return catalogue.find((d) => d.name === name);
}
