// Bus: every member subscribes to the group's topic; each message carries its sender's member id in
// the application property `msg-sender`, so a member skips its own and every other member gets it
// once. (The broker's no-local filter would also skip the other members on the same connection.)

import { type BusLink, type Deliver, nextId } from '@msg/core';
import { type Broker, detach } from './broker.js';
import { type Addresses, SENDER_PROPERTY, decode } from './wire.js';

export async function join(broker: Broker, addresses: Addresses, group: string, deliver: Deliver): Promise<BusLink> {
  const member = nextId();
  const self = { [SENDER_PROPERTY]: member };
  const address = addresses.topic(group);
  const receiver = await broker.receive(
    { source: { address }, snd_settle_mode: 1, credit_window: 1000 },
    (message) => {
      if (message.application_properties?.[SENDER_PROPERTY] !== member) deliver(decode(message, group));
    },
    `joining bus "${group}"`,
  );
  return {
    send: async (message) => await broker.send(`send to bus "${group}"`, { to: address, data: message.data, headers: message.headers, extra: self }),
    leave: () => detach(receiver, false),
  };
}
