// @msg/otel on every adapter, over its real broker (or its real sockets, for the brokerless ones):
// a request from one transport to a replier on another is one trace, pub/sub and survey spans are
// tied across transports, and the metrics count what happened. A transport that declares
// `headers: false` cannot carry context: there the test asserts that the two sides are separate
// traces, as its capabilities say.
import { type Capabilities, type Transport, text } from '@msg/core';
import { checkBroker, uniqueName } from '@msg/conformance';
import { instrument } from '@msg/otel';
import { createAmqpTransport } from '@msg/transport-amqp';
import { createAmqp1Transport } from '@msg/transport-amqp1';
import { createGrpcTransport } from '@msg/transport-grpc';
import { createInprocTransport } from '@msg/transport-inproc';
import { createKafkaTransport } from '@msg/transport-kafka';
import { createMqttTransport } from '@msg/transport-mqtt';
import { Directory as NanomsgDirectory, createNanomsgTransport } from '@msg/transport-nanomsg';
import { createNatsTransport } from '@msg/transport-nats';
import { createRedisTransport } from '@msg/transport-redis';
import { Directory as ZmqDirectory, createZmqTransport } from '@msg/transport-zmq';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { SpanKind, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

interface Target {
  name: string;
  connect: () => Promise<Transport>;
  skip?: string | undefined;
}

const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const nats = await checkBroker('NATS', '127.0.0.1', 4222);
const redis = await checkBroker('Redis', '127.0.0.1', 6379);
const rabbit = await checkBroker('RabbitMQ', '127.0.0.1', 5672);
const kafka = await checkBroker('Kafka', '127.0.0.1', 9092);
const mosquitto = await checkBroker('Mosquitto', '127.0.0.1', 1883);
const activemq = await checkBroker('ActiveMQ (AMQP 1.0)', '127.0.0.1', 5673);
const jetstream = { stream: `OTEL_${run}`, subjectPrefix: `otel_${run}` };
const redisPrefix = `msgtest-otel-${run}`;
const zmq = new ZmqDirectory();
const nanomsg = new NanomsgDirectory();
const grpcHost = createGrpcTransport({ listen: '127.0.0.1:0' });

const targets: Target[] = [
  { name: 'inproc', connect: () => createInprocTransport({ hub: `otel-${run}` }) },
  { name: 'zmq', connect: () => createZmqTransport({ directory: zmq }) },
  { name: 'nanomsg', connect: () => createNanomsgTransport({ directory: nanomsg }) },
  { name: 'nanomsg (plain wire)', connect: () => createNanomsgTransport({ directory: nanomsg, wire: 'plain' }) },
  { name: 'grpc', connect: async () => createGrpcTransport({ connect: `grpc://${(await grpcHost).address}` }) },
  { name: 'nats', skip: nats, connect: () => createNatsTransport({ servers: 'nats://127.0.0.1:4222' }) },
  { name: 'nats+jetstream', skip: nats, connect: () => createNatsTransport({ servers: 'nats://127.0.0.1:4222', jetstream }) },
  { name: 'redis', skip: redis, connect: () => createRedisTransport({ host: '127.0.0.1', port: 6379, prefix: redisPrefix }) },
  {
    name: 'redis+streams',
    skip: redis,
    connect: () => createRedisTransport({ host: '127.0.0.1', port: 6379, prefix: redisPrefix, keyExpiryMs: 5 * 60_000, profile: 'streams' }),
  },
  { name: 'amqp', skip: rabbit, connect: () => createAmqpTransport({ url: 'amqp://guest:guest@127.0.0.1:5672' }) },
  { name: 'amqp at-least-once', skip: rabbit, connect: () => createAmqpTransport({ url: 'amqp://guest:guest@127.0.0.1:5672', delivery: 'at-least-once' }) },
  { name: 'kafka', skip: kafka, connect: () => createKafkaTransport({ brokers: ['127.0.0.1:9092'] }) },
  { name: 'mqtt', skip: mosquitto, connect: () => createMqttTransport({ url: 'mqtt://127.0.0.1:1883' }) },
  { name: 'mqtt+qos1', skip: mosquitto, connect: () => createMqttTransport({ url: 'mqtt://127.0.0.1:1883', qos: 1 }) },
  { name: 'amqp1', skip: activemq, connect: () => createAmqp1Transport({ url: 'amqp1://127.0.0.1:5673' }) },
  { name: 'amqp1+confirm', skip: activemq, connect: () => createAmqp1Transport({ url: 'amqp1://127.0.0.1:5673', confirm: true }) },
];

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const options = { tracerProvider, meterProvider, propagator: new W3CTraceContextPropagator() };
const open: Transport[] = [];

beforeAll(() => void context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
afterEach(async () => void (await Promise.all(open.splice(0).map((t) => t.close()))));
afterAll(async () => {
  context.disable();
  await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown(), (await grpcHost).close()]);
  if (!nats) {
    const nc = await natsConnect({ servers: 'nats://127.0.0.1:4222' });
    await (await jetstreamManager(nc)).streams.delete(jetstream.stream).catch(() => undefined); // none made: nothing to delete
    await nc.close();
  }
  if (!redis) {
    const admin = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
    const keys = await admin.keys(`${redisPrefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  }
}, 60_000);

/** Spans of one case, found by the unique subject it used. */
const about = (subject: string, name: string) =>
  spans.getFinishedSpans().filter((s) => s.attributes['messaging.destination.name'] === subject && s.name === name);
const sameTrace = (a: ReadableSpan, b: ReadableSpan) => a.spanContext().traceId === b.spanContext().traceId;
const childOf = (child: ReadableSpan, parent: ReadableSpan) => sameTrace(child, parent) && child.parentSpanContext?.spanId === parent.spanContext().spanId;

async function counted(name: string, subject: string): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? [])
    .filter((p) => p.attributes['messaging.destination.name'] === subject)
    .reduce((n, p) => n + (p.value as number), 0);
}

/** Waits, bounded, until `check` holds. */
async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check()) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
}

for (const target of targets) {
  const suite = target.skip ? describe.skip : describe;
  suite(`${target.name}${target.skip ? ` [SKIPPED: ${target.skip}]` : ''}`, () => {
    let caps: Capabilities;
    const two = async (): Promise<[Transport, Transport]> => {
      const made = [await target.connect(), await target.connect()] as [Transport, Transport];
      open.push(...made);
      caps = made[0].capabilities;
      return [instrument(made[0], options), instrument(made[1], options)];
    };

    it('a request to a replier on another transport: one trace, CLIENT parent of SERVER, with the messaging attributes', async () => {
      const [server, client] = await two();
      const service = uniqueName('otel');
      await server.reply(service, (request) => text.encode(request.headers.traceparent ?? 'none'));
      const reply = await client.request(service, text.encode('quote'), { timeout: 10_000 });

      await until(() => about(service, `process ${service}`).length > 0, 2000);
      const [request] = about(service, `request ${service}`);
      const [process] = about(service, `process ${service}`);
      expect(request?.kind).toBe(SpanKind.CLIENT);
      expect(process?.kind).toBe(SpanKind.SERVER);
      expect(request?.attributes).toMatchObject({
        'msg.transport': client.name,
        'messaging.destination.name': service,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'request',
        'messaging.message.body.size': 5,
      });
      expect(typeof request?.attributes['messaging.system']).toBe('string');
      expect(process?.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.destination.name': service });
      if (caps.headers) {
        expect(childOf(process!, request!)).toBe(true);
        expect(text.decode(reply.data)).toBe(`00-${request!.spanContext().traceId}-${request!.spanContext().spanId}-01`);
      } else {
        // Declared `headers: false`: nothing carries the context, so the replier starts a trace of its own.
        expect(text.decode(reply.data)).toBe('none');
        expect(sameTrace(process!, request!)).toBe(false);
      }
      expect(await counted('messaging.client.sent.messages', service)).toBe(1);
      expect(await counted('messaging.client.consumed.messages', service)).toBe(1);
    });

    it('a publish to a subscriber on another transport: the CONSUMER span is the PRODUCER span\'s child and links to it', async () => {
      const [subscriber, publisher] = await two();
      const topic = uniqueName('otel');
      let handled = 0;
      await subscriber.subscribe(topic, { handler: () => void handled++ });
      await publisher.publish(topic, text.encode('event'));
      await until(() => handled > 0 && about(topic, `process ${topic}`).length > 0, caps.timing.settleMs * 50);

      const [publish] = about(topic, `publish ${topic}`);
      const [process] = about(topic, `process ${topic}`);
      expect(publish?.kind).toBe(SpanKind.PRODUCER);
      expect(process?.kind).toBe(SpanKind.CONSUMER);
      if (caps.headers) {
        expect(childOf(process!, publish!)).toBe(true);
        expect(process?.links.map((l) => l.context.spanId)).toEqual([publish?.spanContext().spanId]);
      } else {
        expect(sameTrace(process!, publish!)).toBe(false);
        expect(process?.links).toEqual([]);
      }
      expect(await counted('messaging.client.consumed.messages', topic)).toBe(1);
    });

    it('a survey: each respondent SERVER span is a child of the surveyor CLIENT span', async () => {
      const [respondent, surveyor] = await two();
      const topic = uniqueName('otel');
      await respondent.respond(topic, () => text.encode('ok'));
      const answers = await surveyor.survey(topic, text.encode('?'), { deadline: caps.timing.surveyDeadlineMs }).toArray();
      expect(answers).toHaveLength(1);
      const [survey] = about(topic, `survey ${topic}`);
      const [process] = about(topic, `process ${topic}`);
      expect(survey?.kind).toBe(SpanKind.CLIENT);
      expect(process?.kind).toBe(SpanKind.SERVER);
      expect(childOf(process!, survey!)).toBe(caps.headers);
    });

    it('a message whose handler throws is given back and counted as redelivered (at-least-once), never otherwise', async () => {
      const [subscriber, publisher] = await two();
      const topic = uniqueName('otel');
      let attempts = 0;
      await subscriber.subscribe(topic, {
        handler: () => {
          if (++attempts === 1) throw new Error('not yet');
        },
        onError: () => undefined,
      });
      await publisher.publish(topic, text.encode('job'));
      const atLeastOnce = caps.delivery === 'at-least-once';
      await until(() => attempts >= (atLeastOnce ? 2 : 1), caps.timing.settleMs * 100);
      await until(async () => !atLeastOnce || (await counted('msg.client.redelivered.messages', topic)) >= 1, 2000);
      const redelivered = await counted('msg.client.redelivered.messages', topic);
      if (atLeastOnce) {
        expect(attempts).toBeGreaterThanOrEqual(2);
        expect(redelivered).toBeGreaterThanOrEqual(1);
      } else {
        expect(attempts).toBe(1);
        expect(redelivered).toBe(0);
      }
      const failed = about(topic, `process ${topic}`).filter((s) => s.attributes['error.type'] === 'Error');
      expect(failed.length).toBeGreaterThanOrEqual(1);
    });
  });
}
