// Publish/subscribe on the topic of the same name. Each subscription is its own consumer group
// (fan-out) unless it names a queue group (shared, load-balanced by partition) or a durable name.

import type { BackendSubscribeOptions, Deliver, Message, Stop } from '@msg/core';
import type { Connection } from './connection.js';
import { consume } from './consumer.js';
import { durableGroup, ownGroup, queueGroup } from './names.js';
import { fromRecord, toRecord } from './wire.js';

export async function publish(connection: Connection, message: Message): Promise<void> {
  await connection.ensureTopic(message.subject);
  // Keyed by publisher: its messages share a partition, so they are read in the order it sent them.
  await connection.outbox.send(message.subject, toRecord(message, { key: connection.id }));
}

export async function subscribe(connection: Connection, topic: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
  await connection.ensureTopic(topic);
  const groupId =
    options.queue !== undefined
      ? queueGroup(topic, options.queue)
      : options.durable !== undefined
        ? durableGroup(topic, options.durable)
        : ownGroup(topic);
  return consume(connection, {
    topic,
    groupId,
    ephemeral: options.queue === undefined && options.durable === undefined,
    countFailures: options.deadLetter !== undefined,
    fromEarliest: options.fromEarliest === true,
    maxPending: options.maxPending,
    take: (record, partition, settle, deliveries) => deliver(fromRecord(record, topic, `${topic}/${partition}`).message, settle, deliveries),
  });
}
