// Publish/subscribe on one topic exchange. Each subscription consumes a queue of its own bound with
// its pattern; a queue group's members share one queue; a durable subscription's queue is named by
// it and outlives its subscriber. Which queue, and how long it lives, depends on the profile.
// Classic queues keep no delivery count, so a subscription with a dead-letter topic counts its
// failures itself: a failed delivery is published again to its queue with the count in a header
// (and acknowledged once that is confirmed), instead of being requeued. The core publishes the dead
// letter once the count reaches the limit.

import { type BackendSubscribeOptions, type Deliver, type Stop, nextId } from '@msg/core';
import type { Channel, ConsumeMessage, Options } from 'amqplib';
import type { BrokerConnection } from './connection.js';
import { consume } from './consumer.js';
import { TOPIC_EXCHANGE, bindingKey, durableQueue, groupQueue } from './names.js';
import type { Publisher } from './publisher.js';
import { DELIVERIES_HEADER, TOPIC_HEADER, toMessage } from './wire.js';

export interface QueuePolicy {
  /** At-least-once: manual acks, persistent messages, queues that outlive a lost connection. */
  readonly confirmed: boolean;
  /** At-least-once: how long the broker keeps a subscription's queue while nobody consumes it. */
  readonly expiresMs: number;
  /** RabbitMQ's x-max-length on subscription queues; none: a queue grows until the broker's limits. */
  readonly maxLength: number | undefined;
  /** At-least-once: the type of the queues that outlive a lost connection (x-queue-type). */
  readonly queueType: 'classic' | 'quorum';
}

interface QueuePlan {
  name: string;
  options: Options.AssertQueue;
  /** What unsubscribe does to the queue. */
  remove?: (channel: Channel, name: string) => Promise<unknown>;
}

function planQueue(policy: QueuePolicy, pattern: string, options: BackendSubscribeOptions): QueuePlan {
  const args: Record<string, unknown> = {};
  if (policy.maxLength !== undefined) {
    args['x-max-length'] = policy.maxLength;
    // At-least-once may not drop: the broker nacks the publish instead, and it rejects.
    args['x-overflow'] = policy.confirmed ? 'reject-publish' : 'drop-head';
  }
  // A quorum queue is replicated over the cluster's nodes (on one node: stored by Raft there); only
  // the queues that outlive a connection can be one, since quorum queues are never exclusive.
  if (policy.confirmed && policy.queueType === 'quorum') args['x-queue-type'] = 'quorum';
  if (options.durable !== undefined) {
    return { name: durableQueue(options.durable), options: { durable: true, arguments: args } };
  }
  if (!policy.confirmed) {
    // At-most-once: the queue lives as long as its consumers; a lost connection loses it.
    if (options.queue !== undefined) return { name: groupQueue(options.queue, pattern), options: { autoDelete: true, arguments: args } };
    return { name: '', options: { exclusive: true, autoDelete: true, arguments: args } };
  }
  // At-least-once: the queue survives a lost connection, so what was published while the
  // subscriber reconnects waits for it; it expires if the subscriber never comes back.
  const survives = { durable: true, arguments: { ...args, 'x-expires': policy.expiresMs } };
  if (options.queue !== undefined) {
    const name = groupQueue(options.queue, pattern);
    // Quorum queues have no delete-if-unused (RabbitMQ answers NOT_IMPLEMENTED): the group's queue
    // goes when it expires, queueExpiresMs after its last member left.
    if (policy.queueType === 'quorum') return { name, options: survives };
    // The last member to leave deletes the group's queue; the broker refuses while others consume.
    return { name, options: survives, remove: (channel, queue) => channel.deleteQueue(queue, { ifUnused: true }) };
  }
  if (policy.queueType === 'quorum') {
    // Unbound first: RabbitMQ 3.10 closes the channel of a publisher whose message is routed to a
    // quorum queue while that queue is being deleted.
    const remove = async (channel: Channel, name: string) => {
      await channel.unbindQueue(name, TOPIC_EXCHANGE, bindingKey(pattern));
      await channel.deleteQueue(name);
    };
    return { name: `msg.sub.${nextId()}`, options: survives, remove };
  }
  return { name: `msg.sub.${nextId()}`, options: survives, remove: (channel, name) => channel.deleteQueue(name) };
}

/** Deliveries so far, this one included, as counted in the header by earlier retries. */
function deliveriesOf(delivery: ConsumeMessage): number {
  const failed = Number(delivery.properties.headers?.[DELIVERIES_HEADER] ?? 0);
  return (Number.isSafeInteger(failed) && failed > 0 ? failed : 0) + 1;
}

/** The topic it was published to: a retried copy came through the default exchange, with the topic in a header. */
function topicOf(delivery: ConsumeMessage): string {
  const topic: unknown = delivery.properties.headers?.[TOPIC_HEADER];
  return typeof topic === 'string' ? topic : delivery.fields.routingKey;
}

export function subscribe(
  connection: BrokerConnection,
  publisher: Publisher,
  policy: QueuePolicy,
  pattern: string,
  deliver: Deliver,
  options: BackendSubscribeOptions,
): Promise<Stop> {
  const plan = planQueue(policy, pattern, options);
  const key = bindingKey(pattern);
  const counted = policy.confirmed && options.deadLetter !== undefined;
  return consume(connection, {
    purpose: `subscribing to "${pattern}"`,
    prefetch: policy.confirmed ? options.maxPending : undefined,
    declare: async (channel) => {
      await channel.assertExchange(TOPIC_EXCHANGE, 'topic', { durable: true });
      const { queue } = await channel.assertQueue(plan.name, plan.options);
      await channel.bindQueue(queue, TOPIC_EXCHANGE, key);
      return queue;
    },
    onDelivery: counted
      ? (delivery, settle) => deliver(toMessage(delivery, topicOf(delivery)), settle, deliveriesOf(delivery))
      : (delivery, settle) => deliver(toMessage(delivery, delivery.fields.routingKey), settle),
    retry: counted
      ? async (delivery, queue) => {
          const message = toMessage(delivery, topicOf(delivery));
          const headers = { ...message.headers, [DELIVERIES_HEADER]: String(deliveriesOf(delivery)), [TOPIC_HEADER]: message.subject };
          // Through the default exchange, straight to this queue: the topic travels in a header.
          await publisher.send('', queue, { ...message, headers });
        }
      : undefined,
    remove: plan.remove,
  });
}
