// OpenTelemetry's messaging semantic conventions as they apply to msg's four patterns: which
// operation and span kind each one is, and the attributes of its spans and metrics.

import { type Attributes, SpanKind } from '@opentelemetry/api';
import type { HookEvent, Pattern } from '@msg/core';

export const ATTR_SYSTEM = 'messaging.system';
export const ATTR_DESTINATION = 'messaging.destination.name';
export const ATTR_TEMPLATE = 'messaging.destination.template';
export const ATTR_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGE_ID = 'messaging.message.id';
export const ATTR_BODY_SIZE = 'messaging.message.body.size';
export const ATTR_ERROR_TYPE = 'error.type';
/** The msg transport's own name (`nats+jetstream`, `mqtt+qos1`...), finer than messaging.system. */
export const ATTR_TRANSPORT = 'msg.transport';

export type OperationType = 'send' | 'receive' | 'process';

/**
 * How each pattern goes out. A request and a survey wait for their answers, so they are CLIENT
 * spans and the handlers answering them SERVER spans; a publish and a bus send are PRODUCER spans
 * whose context the consumers' CONSUMER spans are children of and link to.
 */
export const SENDS: Record<Pattern, { name: string; kind: SpanKind }> = {
  publish: { name: 'publish', kind: SpanKind.PRODUCER },
  bus: { name: 'send', kind: SpanKind.PRODUCER },
  request: { name: 'request', kind: SpanKind.CLIENT },
  survey: { name: 'survey', kind: SpanKind.CLIENT },
};

/** A handler that sends its answer back to the asker is a server; one that only consumes, a consumer. */
export function answers(pattern: Pattern): boolean {
  return pattern === 'request' || pattern === 'survey';
}

// The convention's well-known messaging.system values where one fits; the other transports have
// none, and go by their own name (nats, redis, mqtt, zmq, nanomsg, grpc, inproc).
const WELL_KNOWN: Record<string, string> = { amqp: 'rabbitmq', kafka: 'kafka' };
const systems = new Map<string, string>();

/** messaging.system for a transport name: `nats+jetstream` is nats, `amqp` is rabbitmq. */
export function systemOf(transport: string): string {
  let system = systems.get(transport);
  if (system === undefined) {
    const base = transport.split('+')[0] as string;
    system = WELL_KNOWN[base] ?? base;
    systems.set(transport, system);
  }
  return system;
}

/** What every metric point is counted by: transport, destination and operation. */
export function metricAttributes(event: HookEvent, operation: string): Attributes {
  return {
    [ATTR_SYSTEM]: systemOf(event.transport),
    [ATTR_TRANSPORT]: event.transport,
    [ATTR_DESTINATION]: event.message.subject,
    [ATTR_OPERATION_NAME]: operation,
  };
}

/** A span's attributes: the metric's, and the one message it is about. */
export function spanAttributes(event: HookEvent, operation: string, type: OperationType, template?: string): Attributes {
  const attributes = metricAttributes(event, operation);
  attributes[ATTR_OPERATION_TYPE] = type;
  attributes[ATTR_MESSAGE_ID] = event.message.id;
  attributes[ATTR_BODY_SIZE] = event.message.data.length;
  if (template !== undefined && template !== event.message.subject) attributes[ATTR_TEMPLATE] = template;
  return attributes;
}

/** error.type: the MsgError code (TIMEOUT, REMOTE, ...), else the error's class name. */
export function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : '_OTHER';
}
