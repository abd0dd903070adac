// Bus on pub/sub: every member of a group subscribes to the group's channel and publishes to it with
// its own member id in the envelope, and skips the messages that carry its own id.

import { type BusLink, type Deliver, Kind, type Message } from '@msg/core';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Channels } from './channels.js';
import { type Names, frame, unframe } from './wire.js';

export interface BusContext {
  names: Names;
  command: Redis;
  channels: Channels;
  onBadFrame: (error: unknown) => void;
}

export async function join(ctx: BusContext, group: string, deliver: Deliver): Promise<BusLink> {
  const channel = ctx.names.bus(group);
  const member = randomUUID();
  const leave = await ctx.channels.listen(channel, (payload) => {
    let message: Message;
    let sender: string;
    try {
      ({ message, replyTo: sender } = unframe(payload, Kind.bus));
    } catch (error) {
      ctx.onBadFrame(error);
      return;
    }
    if (sender !== member) deliver(message);
  });
  return {
    send: async (message) => {
      await ctx.command.publish(channel, frame(Kind.bus, message, member));
    },
    leave,
  };
}
