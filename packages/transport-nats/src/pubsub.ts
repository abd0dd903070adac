// At-most-once publish/subscribe on core NATS. Subjects and wildcards are the core's syntax as is;
// a queue group is the server's own. The client hands each message to the core's bounded queue
// straight from the socket, so a slow consumer loses the newest messages there, counted in `dropped`.

import type { BackendSubscribeOptions, Deliver, Message, Stop } from '@msg/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { confirmed } from './connection.js';
import { toCoreError } from './errors.js';
import { fromNats, toNatsHeaders } from './wire.js';

export function publish(nc: NatsConnection, message: Message, maxPayload: number): void {
  const headers = toNatsHeaders(message);
  try {
    nc.publish(message.subject, message.data, { headers });
  } catch (error) {
    throw toCoreError(error, { what: `publish to "${message.subject}"`, subject: message.subject, size: message.data.length, headers, maxPayload });
  }
}

export async function subscribe(nc: NatsConnection, pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
  const subscription = nc.subscribe(pattern, {
    queue: options.queue,
    callback: (error, msg) => {
      if (error === null) deliver(fromNats(msg, msg.subject));
    },
  });
  return confirmed(nc, subscription, `subscribing to "${pattern}"`);
}
