// Publish/subscribe. A subscription is a receiver on `topic://<prefix><pattern>` (ActiveMQ's `*` and
// `>` are the core's, on the same dots); a queue group is a receiver on the virtual topic's consumer
// queue `Consumer.<group>.<prefix><pattern>`. ActiveMQ's `>` also matches the parent topic
// (`orders.>` matches `orders`), which the core's does not: the core filters every delivery by its
// own pattern, so such a message is dropped there.
//
// At most once, the broker sends each message pre-settled and forgets it. At least once, each
// message stays unsettled until the core settles it: accepted when handled, `modified` (delivery
// failed) when its handler threw, so that the broker delivers it again (and, past its redelivery
// policy, to its dead-letter queue); one given back at unsubscribe is left unsettled, and the
// broker keeps it for the subscription when the link detaches. The link's credit is `maxPending`,
// given back as messages are settled (see Credit). A plain subscription is a durable subscription
// of a random name, closed (so removed) at unsubscribe, so that it outlives a broker restart; a named one is a durable subscription on a
// connection of its own whose container id is the name (ActiveMQ keys durable subscriptions by
// container id and link name), detached at unsubscribe so that the broker keeps it.

import { type BackendSubscribeOptions, ConnectionError, type Deliver, type StatusFeed, type Stop, isMsgError, nextId } from '@msg/core';
import type { Delivery, Receiver, ReceiverOptions } from 'rhea';
import { Broker, detach } from './broker.js';
import { Credit } from './credit.js';
import { type Endpoint, openConnection, toConnectionError } from './connection.js';
import { type Addresses, decode } from './wire.js';

const AT_MOST_ONCE_CREDIT = 1000;

function sourceOf(addresses: Addresses, pattern: string, options: BackendSubscribeOptions): string {
  return options.queue === undefined ? addresses.topic(pattern) : addresses.group(options.queue, pattern);
}

/**
 * At most once the deliveries come pre-settled, but credit still goes back only as the consumer
 * takes (or drops) each message: a slow subscriber leaves the backlog with the broker, which slows
 * the publishers down, instead of filling its own queue and dropping there.
 */
export async function subscribe(broker: Broker, addresses: Addresses, pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
  const credit = new Credit(Math.min(options.maxPending, AT_MOST_ONCE_CREDIT));
  const receiver = await broker.receive(
    { source: { address: sourceOf(addresses, pattern, options) }, snd_settle_mode: 1, credit_window: 0 },
    (message) => {
      const born = credit.epoch;
      deliver(decode(message, addresses.subjectOf(message.to, pattern)), () => credit.giveBack(born));
    },
    `subscribing to "${pattern}"`,
    credit,
  );
  return () => detach(receiver, false);
}

export interface ConfirmedSettings {
  readonly point: Endpoint;
  readonly maxFrameSize: number;
  /** Where each durable subscription's own connection reports its losses and failures. */
  readonly status: StatusFeed;
}

export async function subscribeConfirmed(
  broker: Broker,
  addresses: Addresses,
  pattern: string,
  deliver: Deliver,
  options: BackendSubscribeOptions,
  settings: ConfirmedSettings,
): Promise<Stop> {
  const what = `subscribing to "${pattern}"${options.durable === undefined ? '' : ` as "${options.durable}"`}`;
  const address = sourceOf(addresses, pattern, options);
  // A queue group's consumer queue keeps its messages by itself; a topic subscription is made durable.
  const source = options.queue === undefined ? { address, durable: 2, expiry_policy: 'never' } : { address };
  const link: ReceiverOptions = { name: options.durable ?? `msg-sub-${nextId()}`, source, snd_settle_mode: 0, rcv_settle_mode: 0, autoaccept: false, credit_window: 0 };

  // A named durable subscription has a connection of its own, whose container id is its name.
  let own: Broker | undefined;
  if (options.durable !== undefined) {
    const name = options.durable;
    const connection = await openConnection(settings.point, name).catch((error: unknown) => {
      const detail = isMsgError(error) ? error.message : String(error);
      throw new ConnectionError(`amqp1: ${what} failed: ${detail.replace(/^amqp1: /, '')} (the durable name is the container id of a connection of its own, and the broker allows one connection per container id: is another subscriber using "${name}"?)`, { cause: error });
    });
    // Only one connection may use a container id: a second subscriber of the name is refused while the first is there.
    own = new Broker(connection, settings.point.where, settings.maxFrameSize, settings.status, settings.point.reconnectPeriod, `the connection of the durable subscription "${options.durable}"`);
  }
  const on = own ?? broker;

  let stopped = false;
  /** Nacks waiting for their delay; at stop the broker takes the deliveries back unsettled. */
  const held = new Set<NodeJS.Timeout>();
  const credit = new Credit(options.maxPending);
  let receiver: Receiver;
  try {
    receiver = await on.receive(
      link,
      (message, delivery) => {
        // Deliveries of an earlier connection cannot be settled on this one: the broker delivers them again.
        const born = credit.epoch;
        const settle = (error?: unknown, redeliverAfterMs?: number) => {
          if (error === undefined) return settleOne(credit, born, delivery);
          // A nack is either a handler that threw or a message given back at unsubscribe, which the
          // core does just before it calls stop: decided a turn later, when stop has said which.
          // AMQP cannot delay a redelivery: a nack with a delay holds the delivery unsettled until then.
          const later = () => {
            if (!stopped) settleOne(credit, born, delivery, error);
          };
          if (redeliverAfterMs === undefined || redeliverAfterMs <= 0) return void setImmediate(later);
          const timer = setTimeout(() => {
            held.delete(timer);
            later();
          }, redeliverAfterMs);
          held.add(timer);
        };
        deliver(decode(message, addresses.subjectOf(message.to, pattern)), settle);
      },
      what,
      credit,
    );
  } catch (error) {
    if (own) await own.close();
    throw toConnectionError(error, what);
  }

  return async () => {
    stopped = true;
    for (const timer of held) clearTimeout(timer);
    held.clear();
    // A named subscription is detached, which keeps it; a plain one is closed, which removes it.
    await detach(receiver, options.durable !== undefined);
    if (own) await own.close();
  };
}

/** Accepts a delivery, or with an error has the broker deliver it again (and count the failure). */
function settleOne(credit: Credit, epoch: number, delivery: Delivery, error?: unknown): void {
  if (!credit.current(epoch)) return;
  if (error === undefined) delivery.accept();
  else delivery.modified({ delivery_failed: true });
  credit.giveBack(epoch);
}

