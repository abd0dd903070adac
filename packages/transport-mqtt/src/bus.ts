// Bus: every member subscribes to the group's topic; each message carries its sender's member id
// in a user property, so a member skips its own and every other member gets it once. (MQTT 5's No
// Local flag would also skip the other members on the same connection.)

import { type BusLink, type Deliver, nextId } from '@msg/core';
import type { Broker } from './broker.js';
import { SENDER_PROPERTY, fromMqtt, toTopic, toUserProperties } from './wire.js';

export async function join(broker: Broker, group: string, deliver: Deliver): Promise<BusLink> {
  const member = nextId();
  const self = { [SENDER_PROPERTY]: member };
  const topic = toTopic(group);
  const leave = await broker.routes.add(
    topic,
    (packet) => {
      if (packet.properties?.userProperties?.[SENDER_PROPERTY] !== member) deliver(fromMqtt(packet, group));
    },
    `joining bus "${group}"`,
  );
  return {
    send: async (message) => broker.send(topic, message.data, { userProperties: toUserProperties(message.headers, self) }, `send to bus "${group}"`),
    leave,
  };
}
