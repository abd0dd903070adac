// --otel: the adapters' transports instrumented with @msg/otel, with the SDK set up as a service
// would (batched spans, cumulative metrics), exporting nowhere so that only the instrumentation's
// own cost shows.
import type { Transport } from '@msg/core';
import { instrument } from '@msg/otel';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

/** Takes every batch and keeps nothing: a collector that is never the bottleneck. */
class DiscardingExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

let options: Parameters<typeof instrument>[1] | undefined;

export function instrumented(transport: Transport): Transport {
  if (!options) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    options = {
      tracerProvider: new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new DiscardingExporter(), { maxQueueSize: 65_536, maxExportBatchSize: 4096 })] }),
      meterProvider: new MeterProvider({
        readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 60_000 })],
      }),
      propagator: new W3CTraceContextPropagator(),
    };
  }
  return instrument(transport, options);
}
