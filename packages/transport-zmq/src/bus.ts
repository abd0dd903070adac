// Bus: a mesh of the transports' own PUB/SUB sockets. Each member sends on its transport's PUB under
// "~bus:<group>", and every transport's SUB, already connected to every publisher in the directory,
// hands it to the members of that group but the sender (the sender's member id rides in the meta).

import { type BusLink, type Deliver, Kind, nextId } from '@msg/core';
import type { Publishing, Subscriptions } from './pubsub.js';
import { BUS_PREFIX, encodeMeta, readMeta } from './wire.js';

export async function join(publishing: Publishing, subscriptions: Subscriptions, group: string, deliver: Deliver): Promise<BusLink> {
  const member = nextId();
  const topic = BUS_PREFIX + group;
  const stop = await subscriptions.listen(topic, (_topic, [, payload, metaFrame]) => {
    // A message without our meta frame cannot name its sender; it is not a member's and is dropped.
    const meta = metaFrame && readMeta(metaFrame);
    if (meta && payload !== undefined && meta.replyTo !== member) deliver({ id: meta.id, subject: group, data: payload, headers: meta.headers });
  });
  return {
    send: (message) => publishing.send([topic, message.data, encodeMeta(Kind.bus, message, member)]),
    leave: async () => stop(),
  };
}
