// At-most-once publish/subscribe on Redis PUBLISH, SUBSCRIBE and PSUBSCRIBE. Redis keeps nothing:
// a subscriber that is disconnected (or too slow, see the README) misses what was published meanwhile.

import { type Deliver, Kind, type Message, type Stop, hasWildcard } from '@msg/core';
import type { Redis } from 'ioredis';
import type { Channels } from './channels.js';
import { type Names, frame, publishedMessage } from './wire.js';

export interface PubSubContext {
  names: Names;
  command: Redis;
  channels: Channels;
  /** A frame that does not decode, received on `connection` (default: the subscriber). */
  onBadFrame: (error: unknown, connection?: string) => void;
}

export async function publish(ctx: PubSubContext, message: Message): Promise<void> {
  await ctx.command.publish(ctx.names.topic(message.subject), frame(Kind.publish, message));
}

export async function subscribe(ctx: PubSubContext, pattern: string, deliver: Deliver): Promise<Stop> {
  const { names, channels } = ctx;
  const onMessage = (payload: Buffer, channel: string) => {
    let message: Message;
    try {
      message = publishedMessage(payload, names.topicOf(channel));
    } catch (error) {
      ctx.onBadFrame(error);
      return;
    }
    deliver(message);
  };
  return hasWildcard(pattern)
    ? channels.listenGlob(names.topicGlob(pattern), onMessage)
    : channels.listen(names.topic(pattern), onMessage);
}
