// Request/reply: the repliers of a service share one queue, so each request reaches one of them;
// the queue is deleted by the broker when its last replier leaves, which is how a request to a
// service nobody serves comes back at once (see Inbox) instead of waiting for its timeout.

import type { Serve, Stop } from '@msg/core';
import type { BrokerConnection } from './connection.js';
import { consume } from './consumer.js';
import { serviceQueue } from './names.js';
import { sendReply, toMessage } from './wire.js';

/**
 * Requests a replier holds at once. A request is acknowledged once answered, so a busy replier
 * is not handed more than this and the others take the rest.
 */
const REQUESTS_IN_HAND = 100;

export function serve(connection: BrokerConnection, service: string, answer: Serve): Promise<Stop> {
  const queue = serviceQueue(service);
  return consume(connection, {
    purpose: `serving "${service}"`,
    prefetch: REQUESTS_IN_HAND,
    declare: async (channel) => (await channel.assertQueue(queue, { durable: false, autoDelete: true })).queue,
    onDelivery: (delivery, settle, channel) => {
      void answer(toMessage(delivery, service)).then((reply) => {
        sendReply(channel, delivery, reply);
        settle?.();
      });
    },
  });
}
