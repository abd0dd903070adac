// The instrumentation over in-process transports, read back through the OpenTelemetry SDK's
// in-memory span exporter and metric reader.
import { type Transport, text } from '@msg/core';
import { createInprocTransport } from '@msg/transport-inproc';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrument, systemOf } from '../src/index.js';

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const propagator = new W3CTraceContextPropagator();
const contextManager = new AsyncLocalStorageContextManager();
const open: Transport[] = [];

beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
afterAll(async () => {
  context.disable();
  await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  spans.reset();
});

let unique = 0;
async function peers(count: number): Promise<Transport[]> {
  const name = `otel-${process.pid}-${++unique}`;
  const made = await Promise.all(Array.from({ length: count }, () => createInprocTransport({ hub: name })));
  open.push(...made);
  return made.map((t) => instrument(t, { tracerProvider, meterProvider, propagator }));
}

const named = (name: string) => spans.getFinishedSpans().filter((s) => s.name === name);
const one = (name: string): ReadableSpan => {
  const found = named(name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0] as ReadableSpan;
};
const isChild = (child: ReadableSpan, parent: ReadableSpan) => {
  expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
  expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
};

/** A metric's points, by their attributes, from one collection. */
async function points(name: string) {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []) as { attributes: Record<string, unknown>; value: unknown }[];
}
const count = async (name: string, destination: string) =>
  (await points(name)).filter((p) => p.attributes['messaging.destination.name'] === destination).reduce((n, p) => n + (p.value as number), 0);

describe('@msg/otel', () => {
  it('request/reply: one trace, a CLIENT span the parent of the SERVER span, and the handler inside it', async () => {
    const [server, client] = (await peers(2)) as [Transport, Transport];
    const tracer = tracerProvider.getTracer('test');
    await server.reply('prices.quote', (request) => tracer.startActiveSpan('lookup', (span) => {
      span.end();
      return text.encode(`${text.decode(request.data)} costs 42`);
    }));
    const reply = await client.request('prices.quote', text.encode('tea'));
    expect(text.decode(reply.data)).toBe('tea costs 42');

    const request = one('request prices.quote');
    const process = one('process prices.quote');
    expect(request.kind).toBe(SpanKind.CLIENT);
    expect(process.kind).toBe(SpanKind.SERVER);
    isChild(process, request);
    isChild(one('lookup'), process);
    expect(request.attributes).toMatchObject({
      'messaging.system': 'inproc',
      'msg.transport': 'inproc',
      'messaging.destination.name': 'prices.quote',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'request',
      'messaging.message.body.size': 3,
    });
    expect(process.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.message.id': request.attributes['messaging.message.id'] });
    expect(await count('messaging.client.sent.messages', 'prices.quote')).toBe(1);
    expect(await count('messaging.client.consumed.messages', 'prices.quote')).toBe(1);
    const durations = (await points('messaging.client.operation.duration')).filter((p) => p.attributes['messaging.operation.name'] === 'request');
    expect(durations.map((p) => (p.value as { count: number }).count)).toEqual([1]);
  });

  it('a request inside an active span continues its trace; a failed one is an error with its code', async () => {
    const [server, client] = (await peers(2)) as [Transport, Transport];
    await server.reply('prices.fail', () => {
      throw new Error('out of stock');
    });
    const tracer = tracerProvider.getTracer('test');
    await tracer.startActiveSpan('checkout', async (span) => {
      await expect(client.request('prices.fail', text.encode('tea'))).rejects.toMatchObject({ code: 'REMOTE' });
      span.end();
    });
    const request = one('request prices.fail');
    isChild(request, one('checkout'));
    expect(request.status.code).toBe(SpanStatusCode.ERROR);
    expect(request.attributes['error.type']).toBe('REMOTE');
    const process = one('process prices.fail');
    expect(process.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'out of stock' });
    const failed = (await points('messaging.client.sent.messages')).filter((p) => p.attributes['messaging.destination.name'] === 'prices.fail');
    expect(failed.map((p) => p.attributes['error.type'])).toEqual(['REMOTE']);
  });

  it('publish/subscribe: a PRODUCER span, a CONSUMER process span for a handler and a receive span for an iterator, each its child and linked to it', async () => {
    const [subscriber, publisher] = (await peers(2)) as [Transport, Transport];
    const handled = new Promise<void>((resolve) => void subscriber.subscribe('orders.created', { handler: () => resolve() }));
    const stream = await subscriber.subscribe('orders.*');
    await publisher.publish('orders.created', text.encode('{"id":1}'), { headers: { region: 'eu' } });
    await handled;
    for await (const message of stream) {
      expect(message.headers.region).toBe('eu');
      expect(message.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      break;
    }
    const publish = one('publish orders.created');
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    for (const consumer of [one('process orders.created'), one('receive orders.*')]) {
      expect(consumer.kind).toBe(SpanKind.CONSUMER);
      isChild(consumer, publish);
      expect(consumer.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
    }
    expect(one('receive orders.*').attributes).toMatchObject({ 'messaging.destination.name': 'orders.created', 'messaging.destination.template': 'orders.*' });
    expect(await count('messaging.client.consumed.messages', 'orders.created')).toBe(2);
  });

  it('survey: a CLIENT span, the parent of each respondent SERVER span', async () => {
    const [r1, r2, surveyor] = (await peers(3)) as [Transport, Transport, Transport];
    for (const r of [r1, r2]) await r.respond('health', () => text.encode('ok'));
    const answers = await surveyor.survey('health', new Uint8Array(0), { deadline: 100 }).toArray();
    expect(answers).toHaveLength(2);
    const survey = one('survey health');
    expect(survey.kind).toBe(SpanKind.CLIENT);
    const processes = named('process health');
    expect(processes).toHaveLength(2);
    for (const p of processes) {
      expect(p.kind).toBe(SpanKind.SERVER);
      isChild(p, survey);
    }
  });

  it('bus: a PRODUCER send span, each other member a receive span under it', async () => {
    const [a, b, c] = (await peers(3)) as [Transport, Transport, Transport];
    const members = await Promise.all([a, b, c].map((t) => t.join('chat')));
    await members[0]?.send(text.encode('hello'));
    for (const member of members.slice(1)) {
      for await (const message of member) {
        expect(text.decode(message.data)).toBe('hello');
        break;
      }
    }
    const send = one('send chat');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    const receives = named('receive chat');
    expect(receives).toHaveLength(2);
    for (const r of receives) isChild(r, send);
  });

  it('counts what a subscription more than maxPending behind drops', async () => {
    const [subscriber, publisher] = (await peers(2)) as [Transport, Transport];
    const stream = await subscriber.subscribe('ticks', { maxPending: 2 });
    for (let i = 0; i < 5; i++) await publisher.publish('ticks', text.encode(String(i)));
    expect(stream.dropped).toBe(3);
    expect(await count('msg.client.dropped.messages', 'ticks')).toBe(3);
    expect(await count('messaging.client.consumed.messages', 'ticks')).toBe(5);
  });

  it('maps transport names to messaging.system: well-known values where the convention has one', () => {
    expect(['amqp', 'kafka', 'nats+jetstream', 'redis+streams', 'mqtt+qos1', 'zmq', 'nanomsg', 'grpc', 'inproc'].map(systemOf)).toEqual([
      'rabbitmq',
      'kafka',
      'nats',
      'redis',
      'mqtt',
      'zmq',
      'nanomsg',
      'grpc',
      'inproc',
    ]);
  });

  it('leaves a transport alone that is not instrumented', async () => {
    const name = `otel-plain-${process.pid}`;
    const [server, client] = await Promise.all([createInprocTransport({ hub: name }), createInprocTransport({ hub: name })]);
    open.push(server, client);
    await server.reply('plain', (request) => text.encode(String(request.headers.traceparent)));
    expect(text.decode((await client.request('plain', text.encode('x'))).data)).toBe('undefined');
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
