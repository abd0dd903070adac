// A queue consumed on a channel of its own, kept across reconnects and channel errors. With a
// `prefetch` the consumer acknowledges by hand (the core's settle: ack, or nack and requeue) and the
// broker hands over at most that many unsettled messages; without one it consumes with no-ack.

import type { Stop } from '@msg/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from './connection.js';

export type Settle = (error?: unknown) => void;

export interface ConsumerSpec {
  readonly purpose: string;
  /** Declares the queue (and binds it) on a fresh channel; resolves to the queue's name. */
  declare(channel: Channel): Promise<string>;
  /** Manual acks with at most this many unsettled deliveries; none: no-ack. */
  readonly prefetch?: number | undefined;
  onDelivery(delivery: ConsumeMessage, settle: Settle | undefined, channel: Channel): void;
  /** At unsubscribe, once the consumer is cancelled: e.g. delete the queue. */
  remove?(channel: Channel, queue: string): Promise<unknown>;
}

/** AMQP's prefetch count is 16 bits; 0 would mean unlimited. */
const MAX_PREFETCH = 65_535;

function settleOn(channel: Channel, delivery: ConsumeMessage): Settle {
  return (error?: unknown) => {
    try {
      if (error === undefined) channel.ack(delivery);
      else channel.nack(delivery, false, true);
    } catch {
      // The channel is gone; the broker requeues whatever was unacknowledged on it.
    }
  };
}

export async function consume(connection: BrokerConnection, spec: ConsumerSpec): Promise<Stop> {
  let queue = '';
  let consumerTag = '';
  const manual = spec.prefetch !== undefined;
  const kept = await connection.keep({
    purpose: spec.purpose,
    setup: async (channel) => {
      if (spec.prefetch !== undefined) await channel.prefetch(Math.max(1, Math.min(spec.prefetch, MAX_PREFETCH)));
      queue = await spec.declare(channel);
      const reply = await channel.consume(
        queue,
        (delivery) => {
          // null: the broker cancelled the consumer (its queue was deleted). Closing the channel
          // makes it reopen, which declares the queue again.
          if (delivery === null) void channel.close().catch(() => undefined);
          else spec.onDelivery(delivery, manual ? settleOn(channel, delivery) : undefined, channel);
        },
        { noAck: !manual },
      );
      consumerTag = reply.consumerTag;
    },
  });
  return () =>
    kept.close(
      (channel) => channel.cancel(consumerTag),
      async (channel) => spec.remove?.(channel, queue),
    );
}
