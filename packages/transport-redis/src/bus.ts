// Bus on pub/sub: every member of a group subscribes to the group's channel and publishes to it with
// its own member id in the envelope, and skips the messages that carry its own id. Pub/sub cannot
// slow the senders down, so a member holds at most DEFAULT_MAX_PENDING unread messages and drops
// the newest past it, in both profiles (the core drops only for at-most-once transports).

import { type BusLink, DEFAULT_MAX_PENDING, type Deliver, Kind, type Message } from '@msg/core';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Channels } from './channels.js';
import { type Names, frame, unframe } from './wire.js';

export interface BusContext {
  names: Names;
  command: Redis;
  channels: Channels;
  /** A frame that does not decode, received on `connection` (default: the subscriber). */
  onBadFrame: (error: unknown, connection?: string) => void;
}

export async function join(ctx: BusContext, group: string, deliver: Deliver): Promise<BusLink> {
  const channel = ctx.names.bus(group);
  const member = randomUUID();
  let unread = 0;
  const consumed = () => void unread--;
  const leave = await ctx.channels.listen(channel, (payload) => {
    let message: Message;
    let sender: string;
    try {
      ({ message, replyTo: sender } = unframe(payload, Kind.bus));
    } catch (error) {
      ctx.onBadFrame(error);
      return;
    }
    if (sender === member || unread >= DEFAULT_MAX_PENDING) return;
    unread++;
    deliver(message, consumed);
  });
  return {
    send: async (message) => {
      await ctx.command.publish(channel, frame(Kind.bus, message, member));
    },
    leave,
  };
}
