// How core names become AMQP exchange, queue and binding names. AMQP names are at most 255 bytes;
// core names are ASCII of up to 255 characters, so a prefixed name that would be too long keeps a
// readable head and ends in a hash of the whole, which keeps it unique.

import { createHash } from 'node:crypto';

/** Every publish/subscribe message goes through this topic exchange, routed by its topic. */
export const TOPIC_EXCHANGE = 'msg.topic';
/** Every survey question goes through this topic exchange, routed by its survey topic. */
export const SURVEY_EXCHANGE = 'msg.survey';
/** RabbitMQ's direct reply-to pseudo-queue: replies come back without a reply queue to declare. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

const MAX_AMQP_NAME = 255;

function fit(name: string): string {
  if (name.length <= MAX_AMQP_NAME) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 32);
  return `${name.slice(0, MAX_AMQP_NAME - hash.length - 1)}~${hash}`;
}

/** The queue every replier of a service consumes from, so that each request reaches one of them. */
export const serviceQueue = (service: string) => fit(`msg.service.${service}`);
/** A durable subscription's queue, found again by its name. */
export const durableQueue = (durable: string) => fit(`msg.durable.${durable}`);
// "/" cannot occur in a core name, so group and pattern never run into each other.
export const groupQueue = (group: string, pattern: string) => fit(`msg.group.${group}/${pattern}`);
/** One fanout exchange per bus group, deleted by the broker when its last member leaves. */
export const busExchange = (group: string) => fit(`msg.bus.${group}`);

/**
 * Core `*` (one token) is AMQP `*`; core `>` (one or more tokens) becomes AMQP `#`, which also
 * matches zero tokens: `a.>` binds as `a.#` and so also receives `a`, which the core filters out.
 */
export function bindingKey(pattern: string): string {
  return pattern.endsWith('>') ? `${pattern.slice(0, -1)}#` : pattern;
}
