// Bus: one fanout exchange per group and an exclusive queue per member bound to it. A member's
// own messages come back to it too, so each carries its sender's id and the sender skips them.

import type { BusLink, Deliver, Message } from '@msg/core';
import { randomUUID } from 'node:crypto';
import type { BrokerConnection } from './connection.js';
import { consume } from './consumer.js';
import { busExchange } from './names.js';
import type { Publisher } from './publisher.js';
import { SENDER_HEADER, toMessage } from './wire.js';

export async function join(
  connection: BrokerConnection,
  publisher: Publisher,
  group: string,
  deliver: Deliver,
  prefetch: number | undefined,
): Promise<BusLink> {
  const member = randomUUID();
  const exchange = busExchange(group);
  const leave = await consume(connection, {
    purpose: `bus "${group}"`,
    prefetch,
    declare: async (channel) => {
      // Auto-delete: the broker removes the exchange when the last member's queue goes.
      await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, exchange, '');
      return queue;
    },
    onDelivery: (delivery, settle) => {
      if (delivery.properties.headers?.[SENDER_HEADER] === member) settle?.();
      else deliver(toMessage(delivery, group), settle);
    },
  });
  return {
    send: (message: Message) => publisher.send(exchange, '', { ...message, headers: { ...message.headers, [SENDER_HEADER]: member } }),
    leave,
  };
}
