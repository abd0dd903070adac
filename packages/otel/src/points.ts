// The metric points of the hot path, one per transport, operation, destination (and error type),
// made once and reused: the SDK hashes the attributes of every synchronous record, which costs
// more than the rest of an in-process message, so counters are kept here and observed by the SDK
// at collection, and histograms are recorded with the point's one attributes object.

import type { Attributes, Meter, MetricOptions, ObservableResult } from '@opentelemetry/api';
import type { HookEvent } from '@msg/core';
import { ATTR_DESTINATION, ATTR_ERROR_TYPE, ATTR_OPERATION_NAME, ATTR_SYSTEM, ATTR_TRANSPORT, systemOf } from './conventions.js';

/** What every metric point is counted by. */
export interface Point {
  readonly attributes: Attributes;
  sent: number;
  consumed: number;
  dropped: number;
  redelivered: number;
}

type Counted = 'sent' | 'consumed' | 'dropped' | 'redelivered';

export class Points {
  /** transport → operation → destination (→ error type) → point. */
  readonly #points = new Map<string, Map<string, Map<string, Point>>>();
  readonly #failed = new Map<string, Point>();

  /** Observable counters over the points' counts, one per field. */
  observe(meter: Meter, counters: Record<Counted, { name: string; options: MetricOptions }>): void {
    for (const field of Object.keys(counters) as Counted[]) {
      const { name, options } = counters[field];
      meter.createObservableCounter(name, options).addCallback((result: ObservableResult) => {
        for (const point of this.all()) if (point[field] > 0) result.observe(point[field], point.attributes);
      });
    }
  }

  /** The point of an event and operation, with `error.type` when it failed. */
  of(event: HookEvent, operation: string, errorType?: string): Point {
    if (errorType !== undefined) {
      const key = `${event.transport}\n${operation}\n${event.message.subject}\n${errorType}`;
      let point = this.#failed.get(key);
      if (!point) this.#failed.set(key, (point = make(event, operation, errorType)));
      return point;
    }
    let operations = this.#points.get(event.transport);
    if (!operations) this.#points.set(event.transport, (operations = new Map()));
    let destinations = operations.get(operation);
    if (!destinations) operations.set(operation, (destinations = new Map()));
    let point = destinations.get(event.message.subject);
    if (!point) destinations.set(event.message.subject, (point = make(event, operation)));
    return point;
  }

  *all(): Iterable<Point> {
    for (const operations of this.#points.values()) for (const destinations of operations.values()) yield* destinations.values();
    yield* this.#failed.values();
  }
}

function make(event: HookEvent, operation: string, errorType?: string): Point {
  const attributes: Attributes = {
    [ATTR_SYSTEM]: systemOf(event.transport),
    [ATTR_TRANSPORT]: event.transport,
    [ATTR_DESTINATION]: event.message.subject,
    [ATTR_OPERATION_NAME]: operation,
  };
  if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
  return { attributes, sent: 0, consumed: 0, dropped: 0, redelivered: 0 };
}
