// Bus: every member subscribes to the group's subject; each message carries its sender's member id
// in a header, so a member skips its own and every other member gets it once.

import { type BusLink, type Deliver, nextId } from '@msg/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { confirmed } from './connection.js';
import { toCoreError } from './errors.js';
import { SENDER_HEADER, fromNats, toNatsHeaders } from './wire.js';

export async function join(nc: NatsConnection, group: string, deliver: Deliver, maxPayload: number): Promise<BusLink> {
  const member = nextId();
  const self = { [SENDER_HEADER]: member };
  const subscription = nc.subscribe(group, {
    callback: (error, msg) => {
      if (error === null && msg.headers?.get(SENDER_HEADER) !== member) deliver(fromNats(msg, group));
    },
  });
  const leave = await confirmed(nc, subscription, `joining bus "${group}"`);
  return {
    send: async (message) => {
      const headers = toNatsHeaders(message, self);
      try {
        nc.publish(group, message.data, { headers });
      } catch (error) {
        throw toCoreError(error, { what: `send to bus "${group}"`, subject: group, size: message.data.length, headers, maxPayload });
      }
    },
    leave,
  };
}
