// A queue consumed on a channel of its own, kept across reconnects and channel errors. With a
// `prefetch` the consumer acknowledges by hand (the core's settle: ack, or nack and requeue) and the
// broker hands over at most that many unsettled messages; without one it consumes with no-ack.
// RabbitMQ cannot delay a requeue: a nack with a delay holds the delivery unsettled (its prefetch
// place too) until the delay has passed.

import { ConnectionError, type Settle, type Stop, isMsgError } from '@msg/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerConnection } from './connection.js';

export type { Settle };

export interface ConsumerSpec {
  readonly purpose: string;
  /** Declares the queue (and binds it) on a fresh channel; resolves to the queue's name. */
  declare(channel: Channel): Promise<string>;
  /** Manual acks with at most this many unsettled deliveries; none: no-ack. */
  readonly prefetch?: number | undefined;
  onDelivery(delivery: ConsumeMessage, settle: Settle | undefined, channel: Channel): void;
  /**
   * Gives a failed delivery back by publishing a copy of it to `queue` (which then replaces it, and
   * is acknowledged once that is confirmed) instead of a requeue, e.g. to count the failures in a
   * header. A rejection falls back to the requeue. Not for deliveries given back unconsumed.
   */
  retry?(delivery: ConsumeMessage, queue: string): Promise<void>;
  /** At unsubscribe, once the consumer is cancelled: e.g. delete the queue. */
  remove?(channel: Channel, queue: string): Promise<unknown>;
}

/** AMQP's prefetch count is 16 bits; 0 would mean unlimited. */
const MAX_PREFETCH = 65_535;

/**
 * Acknowledges a channel's deliveries a tick at a time: one `ack` with `multiple` for the run of
 * handled deliveries from the oldest unsettled one, instead of a frame (and, under amqplib, a socket
 * write) per message. Nothing is acknowledged before it is handled; those handled out of order
 * behind one still in its handler are acknowledged one by one, so a slow handler holds back no
 * prefetch place but its own. A nack goes out at once.
 */
class Acks {
  readonly #channel: Channel;
  /** Delivery tags in delivery order (ascending), from the oldest the run has not passed. */
  #tags: number[] = [];
  #head = 0;
  /** Settled (acked, to ack, or nacked) and not yet passed by the run. */
  readonly #settled = new Set<number>();
  /** Handled and not yet acknowledged. */
  readonly #toAck = new Set<number>();
  #scheduled = false;
  /** Nacks waiting for their delay: not settled yet, so that no multiple ack covers them. */
  readonly #held = new Map<NodeJS.Timeout, () => void>();
  readonly #retry: ((delivery: ConsumeMessage) => Promise<void>) | undefined;

  constructor(channel: Channel, retry?: (delivery: ConsumeMessage) => Promise<void>) {
    this.#channel = channel;
    this.#retry = retry;
  }

  settleOf(delivery: ConsumeMessage): Settle {
    const tag = delivery.fields.deliveryTag;
    this.#tags.push(tag);
    return (error?: unknown, redeliverAfterMs?: number) => {
      if (error === undefined) this.#ack(tag);
      else if (redeliverAfterMs === undefined) this.#giveBack(delivery, error);
      else {
        const timer = setTimeout(() => {
          this.#held.delete(timer);
          this.#giveBack(delivery, error);
        }, redeliverAfterMs);
        this.#held.set(timer, () => this.#nack(delivery));
      }
    };
  }

  #ack(tag: number): void {
    this.#settled.add(tag);
    this.#toAck.add(tag);
    this.#schedule();
  }

  #nack(delivery: ConsumeMessage): void {
    this.#settled.add(delivery.fields.deliveryTag);
    this.#send(() => this.#channel.nack(delivery, false, true));
    this.#schedule();
  }

  /** A failure is retried (when the spec does) and a delivery given back unconsumed is requeued. */
  #giveBack(delivery: ConsumeMessage, error: unknown): void {
    if (this.#retry === undefined || isMsgError(error, 'CLOSED')) return this.#nack(delivery);
    this.#retry(delivery).then(
      () => this.#ack(delivery.fields.deliveryTag),
      () => this.#nack(delivery),
    );
  }

  #schedule(): void {
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Before the consumer stops: what waits for its delay is requeued now, while the channel is open. */
  release(): void {
    for (const [timer, nack] of this.#held) {
      clearTimeout(timer);
      nack();
    }
    this.#held.clear();
    this.flush();
  }

  /** Acknowledges what is handled now; also before the consumer stops, while its channel is open. */
  readonly flush = (): void => {
    this.#scheduled = false;
    let last: number | undefined;
    while (this.#head < this.#tags.length && this.#settled.delete(this.#tags[this.#head]!)) {
      const tag = this.#tags[this.#head++]!;
      if (this.#toAck.delete(tag)) last = tag;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#tags.length) {
      this.#tags = this.#tags.slice(this.#head);
      this.#head = 0;
    }
    if (last !== undefined) this.#send(() => this.#channel.ack(tagged(last), true));
    for (const tag of this.#toAck) this.#send(() => this.#channel.ack(tagged(tag)));
    this.#toAck.clear();
  };

  #send(frame: () => void): void {
    try {
      frame();
    } catch {
      // The channel is gone; the broker requeues whatever was unacknowledged on it.
    }
  }
}

/** What amqplib's ack reads of a delivery: its tag. */
const tagged = (deliveryTag: number) => ({ fields: { deliveryTag } }) as ConsumeMessage;

export async function consume(connection: BrokerConnection, spec: ConsumerSpec): Promise<Stop> {
  let queue = '';
  let consumerTag = '';
  const manual = spec.prefetch !== undefined;
  let acks: Acks | undefined;
  const kept = await connection.keep({
    purpose: spec.purpose,
    setup: async (channel) => {
      if (spec.prefetch !== undefined) await channel.prefetch(Math.max(1, Math.min(spec.prefetch, MAX_PREFETCH)));
      const retry = spec.retry;
      const ofChannel = new Acks(channel, retry && ((delivery) => retry(delivery, queue)));
      acks = ofChannel;
      queue = await spec.declare(channel);
      const reply = await channel.consume(
        queue,
        (delivery) => {
          // null: the broker cancelled the consumer (its queue was deleted). Closing the channel
          // makes it reopen, which declares the queue again; one that cannot close is gone already
          // and reopens all the same.
          if (delivery === null) {
            connection.settings.status.error(`channel for ${spec.purpose}`, new ConnectionError(`RabbitMQ cancelled the consumer of queue "${queue}" (deleted?); declaring it again`));
            void channel.close().catch(() => undefined); // gone already: it reopens all the same
          } else spec.onDelivery(delivery, manual ? ofChannel.settleOf(delivery) : undefined, channel);
        },
        { noAck: !manual },
      );
      consumerTag = reply.consumerTag;
    },
  });
  return () =>
    kept.close(
      (channel) => {
        acks?.release();
        return channel.cancel(consumerTag);
      },
      async (channel) => spec.remove?.(channel, queue),
    );
}
