// OpenTelemetry for any msg transport, through the core's hooks: W3C trace context travels in
// message headers, each operation makes a span after the messaging semantic conventions, and
// messages sent, received, dropped and redelivered and operation durations are metrics.

import {
  type Context,
  type Link,
  type MeterProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type TracerProvider,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  metrics,
  propagation,
  trace,
} from '@opentelemetry/api';
import type { Headers, HookEvent, Transport, TransportHooks } from '@msg/core';
import { ATTR_ERROR_TYPE, SENDS, answers, errorType, spanAttributes } from './conventions.js';
import { Points } from './points.js';

export { systemOf } from './conventions.js';

const SCOPE = '@msg/otel';
const VERSION = '0.1.0';

export interface OtelOptions {
  /** Where spans go; the global one (`trace.setGlobalTracerProvider`) by default. */
  tracerProvider?: TracerProvider;
  /**
   * Where metrics go; the global one by default. Set it up before `instrument`: the instruments are
   * made then, and the global API does not hand over to a provider registered later.
   */
  meterProvider?: MeterProvider;
  /** How context is written into headers and read back; the global propagator by default. */
  propagator?: TextMapPropagator;
}

/** Instruments `transport` and returns it: `const t = instrument(await connect(url))`. */
export function instrument<T extends Transport>(transport: T, options: OtelOptions = {}): T {
  transport.use(otelHooks(options));
  return transport;
}

/** The hooks `instrument` installs, for a transport's `use` or to combine with hooks of your own. */
export function otelHooks(options: OtelOptions = {}): TransportHooks {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE, VERSION);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE, VERSION);
  const propagator = options.propagator;
  const inject = (ctx: Context, headers: Headers) =>
    propagator ? propagator.inject(ctx, headers, defaultTextMapSetter) : propagation.inject(ctx, headers);
  const extract = (headers: Headers) =>
    propagator ? propagator.extract(context.active(), headers, defaultTextMapGetter) : propagation.extract(context.active(), headers);

  const points = new Points();
  points.observe(meter, {
    sent: {
      name: 'messaging.client.sent.messages',
      options: { description: 'Messages a producer attempted to send: publishes, requests, survey questions and bus sends', unit: '{message}' },
    },
    consumed: {
      name: 'messaging.client.consumed.messages',
      options: { description: 'Messages delivered to a subscription, bus member, replier or respondent', unit: '{message}' },
    },
    dropped: {
      name: 'msg.client.dropped.messages',
      options: { description: 'Messages an at-most-once subscription dropped because its consumer was more than maxPending behind', unit: '{message}' },
    },
    redelivered: {
      name: 'msg.client.redelivered.messages',
      options: { description: 'Messages given back to an at-least-once backend to redeliver: the handler threw, or unsubscribe came first', unit: '{message}' },
    },
  });
  const operationDuration = meter.createHistogram('messaging.client.operation.duration', {
    description: 'How long a send took: until the backend took a publish, until the reply of a request, until the end of a survey',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
  });
  const processDuration = meter.createHistogram('messaging.process.duration', {
    description: 'How long a handler took to process a message',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
  });
  /** The sender's context on a message, and a link to it for the consumer's span. */
  const origin = (event: HookEvent): { parent: Context; links: Link[] | undefined } => {
    const parent = extract(event.message.headers);
    const sender = trace.getSpanContext(parent);
    return { parent, links: sender && isSpanContextValid(sender) ? [{ context: sender }] : undefined };
  };

  return {
    send(event, headers) {
      const { name, kind } = SENDS[event.pattern];
      const active = context.active();
      const span = tracer.startSpan(`${name} ${event.message.subject}`, { kind, attributes: spanAttributes(event, name, 'send') }, active);
      if (headers) inject(trace.setSpan(active, span), headers);
      const started = performance.now();
      return (error) => {
        const point = points.of(event, name, error === undefined ? undefined : fail(span, error));
        span.end();
        point.sent++;
        operationDuration.record((performance.now() - started) / 1000, point.attributes);
      };
    },

    process(event, work) {
      const server = answers(event.pattern);
      const { parent, links } = origin(event);
      const span = tracer.startSpan(
        `process ${event.message.subject}`,
        // A server answers its client, whose span is its parent; a consumer also links to its producer.
        { kind: server ? SpanKind.SERVER : SpanKind.CONSUMER, attributes: spanAttributes(event, 'process', 'process'), links: server ? undefined : links },
        parent,
      );
      // A subscription's messages are counted as they arrive (deliver); a replier's here.
      if (server) points.of(event, 'process').consumed++;
      const started = performance.now();
      const done = (error?: unknown) => {
        const point = points.of(event, 'process', error === undefined ? undefined : fail(span, error));
        span.end();
        processDuration.record((performance.now() - started) / 1000, point.attributes);
      };
      let result: ReturnType<typeof work>;
      try {
        result = context.with(trace.setSpan(parent, span), work);
      } catch (error) {
        done(error);
        throw error;
      }
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => {
            done();
            return value;
          },
          (error: unknown) => {
            done(error);
            throw error;
          },
        ) as typeof result;
      }
      done();
      return result;
    },

    deliver(event, outcome) {
      const point = points.of(event, event.handled ? 'process' : 'receive');
      if (outcome === 'dropped') return void point.dropped++;
      if (outcome === 'nacked') return void point.redelivered++;
      point.consumed++;
      // A handler's process span covers the message; an iterator's consumer gets a receive span as
      // the message reaches its subscription.
      if (event.handled) return;
      const { parent, links } = origin(event);
      const span = tracer.startSpan(
        `receive ${event.subscription}`,
        { kind: SpanKind.CONSUMER, attributes: spanAttributes(event, 'receive', 'receive', event.subscription), links },
        parent,
      );
      span.end();
    },
  };
}

/** Marks the span failed; returns the error.type. */
function fail(span: Span, error: unknown): string {
  const type = errorType(error);
  span.setAttribute(ATTR_ERROR_TYPE, type);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  return type;
}
