// Bus: one topic per group; each member reads it with a group of its own and skips what it sent.

import type { BusLink, Deliver } from '@msg/core';
import { randomUUID } from 'node:crypto';
import type { Connection } from './connection.js';
import { consume } from './consumer.js';
import { busTopic, ownGroup } from './names.js';
import { fromRecord, toRecord } from './wire.js';

export async function join(connection: Connection, group: string, deliver: Deliver, maxPending: number): Promise<BusLink> {
  const topic = busTopic(group);
  const member = randomUUID();
  await connection.ensureTopic(topic);
  const stop = await consume(connection, {
    topic,
    groupId: ownGroup(topic),
    ephemeral: true,
    maxPending,
    take: (record, partition, settle) => {
      const { message, sender } = fromRecord(record, group, `${topic}/${partition}`);
      if (sender === member) settle();
      else deliver(message, settle);
    },
  });
  return {
    // Keyed by member: one member's messages stay in the order it sent them.
    send: (message) => connection.outbox.send(topic, toRecord(message, { sender: member, key: member })),
    leave: stop,
  };
}
