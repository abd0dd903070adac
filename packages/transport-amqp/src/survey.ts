// Survey: every respondent binds a queue of its own to the survey exchange under the survey topic,
// so every respondent gets every question; answers go back by direct reply-to (see Inbox).

import type { Serve, Stop } from '@msg/core';
import type { BrokerConnection } from './connection.js';
import { consume } from './consumer.js';
import { SURVEY_EXCHANGE } from './names.js';
import { sendReply, toMessage } from './wire.js';

export function respond(connection: BrokerConnection, topic: string, answer: Serve): Promise<Stop> {
  return consume(connection, {
    purpose: `answering surveys on "${topic}"`,
    declare: async (channel) => {
      await channel.assertExchange(SURVEY_EXCHANGE, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, SURVEY_EXCHANGE, topic);
      return queue;
    },
    onDelivery: (delivery, _settle, channel) => {
      void answer(toMessage(delivery, topic)).then((reply) => sendReply(channel, delivery, reply));
    },
  });
}
