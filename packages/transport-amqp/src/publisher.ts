// The channel that publishes and bus sends go out on. In the at-least-once profile it is a confirm
// channel and a send resolves on the broker's ack. Otherwise a send resolves once amqplib has taken
// it, after waiting for 'drain' when amqplib's buffer is full, so a fast publisher is slowed to the
// speed of the socket instead of growing memory without bound.

import { ConnectionError, type Message } from '@msg/core';
import type { Channel, ConfirmChannel, Options } from 'amqplib';
import { type BrokerConnection, type KeptChannel, closeReason } from './connection.js';
import { SURVEY_EXCHANGE, TOPIC_EXCHANGE } from './names.js';
import { toBody, toProperties } from './wire.js';

const drained = new WeakMap<Channel, Promise<void>>();

/** Resolves when amqplib's buffer for `channel` has room again, or the channel is gone. */
function whenDrained(channel: Channel): Promise<void> {
  let waiting = drained.get(channel);
  if (!waiting) {
    waiting = new Promise<void>((resolve) => {
      const done = () => {
        channel.off('drain', done);
        channel.off('close', done);
        drained.delete(channel);
        resolve();
      };
      channel.on('drain', done);
      channel.on('close', done);
    });
    drained.set(channel, waiting);
  }
  return waiting;
}

/** How often a nacked publish may replace the publishing channel (see renewOnNack). */
const RENEW_EVERY_MS = 1000;

export class Publisher {
  readonly #connection: BrokerConnection;
  readonly #kept: KeptChannel;
  readonly #confirm: boolean;
  readonly #renewOnNack: boolean;
  #renewedAt = 0;

  private constructor(connection: BrokerConnection, kept: KeptChannel, confirm: boolean, renewOnNack: boolean) {
    this.#connection = connection;
    this.#kept = kept;
    this.#confirm = confirm;
    this.#renewOnNack = renewOnNack;
  }

  /**
   * `renewOnNack`: a nacked publish replaces the channel (at most once a second). RabbitMQ 3.10 with
   * quorum queues: a channel whose first publish to a queue came while the queue's leader was being
   * elected again (its node just died) nacks every later publish to that queue, for as long as the
   * channel lives; a new channel is confirmed at once. Seen with amqplib alone, on three nodes.
   */
  static async open(connection: BrokerConnection, confirm: boolean, renewOnNack = false): Promise<Publisher> {
    const kept = await connection.keep({
      purpose: 'publishing',
      confirm,
      // Declared on every (re)opened channel, so that an exchange deleted by hand comes back.
      setup: async (channel) => {
        await channel.assertExchange(TOPIC_EXCHANGE, 'topic', { durable: true });
        await channel.assertExchange(SURVEY_EXCHANGE, 'topic', { durable: true });
      },
    });
    return new Publisher(connection, kept, confirm, renewOnNack);
  }

  async send(exchange: string, routingKey: string, message: Message, extra?: Options.Publish): Promise<void> {
    const doing = `publishing to "${message.subject}"`;
    const channel = await this.#kept.ready();
    const body = toBody(message.data);
    const properties = toProperties(message, { persistent: this.#confirm, ...extra });
    try {
      if (this.#confirm) {
        await new Promise<void>((resolve, reject) => {
          (channel as ConfirmChannel).publish(exchange, routingKey, body, properties, (error: unknown) => {
            if (error) {
              reject(this.#unconfirmed(channel, error, doing));
              this.#renew(channel);
            } else resolve();
          });
        });
      } else if (!channel.publish(exchange, routingKey, body, properties)) {
        await whenDrained(channel);
      }
    } catch (error) {
      throw this.#connection.translate(error, doing);
    }
  }

  #renew(nacked: Channel): void {
    if (!this.#renewOnNack || closeReason(nacked) || Date.now() - this.#renewedAt < RENEW_EVERY_MS) return;
    this.#renewedAt = Date.now();
    this.#kept.renew(nacked).catch((error: unknown) => {
      this.#connection.settings.status.error('channel for publishing', this.#connection.translate(error, 'replacing the publishing channel after a nack'));
    });
  }

  #unconfirmed(channel: Channel, error: unknown, doing: string): Error {
    const reason = closeReason(channel);
    if (reason) return this.#connection.translate(reason, doing);
    const what = error instanceof Error ? error.message : String(error);
    return new ConnectionError(`${doing}: RabbitMQ did not confirm the message (${what}); it may or may not have been delivered`, { cause: error });
  }
}
