// Publish/subscribe. Core names become topics (`.` → `/`), `*` and `>` become `+` and `#`, a queue
// group is the shared subscription `$share/<group>/<filter>`. MQTT's `#` also matches the parent
// topic (`orders/#` matches `orders`), which the core's `>` does not: the core filters every
// delivery by its own pattern, so such a message is dropped there.
//
// At most once (QoS 0), subscriptions live on the main connection. At least once (QoS 1), each
// subscription is a client and session of its own: MQTT.js sends a PUBACK only when the message is
// handled and handles one message at a time per connection, so that a slow subscriber holds up
// only itself. Its session (clean start off, an expiry) outlives a lost connection, and the broker
// sends what was not acknowledged again when the client is back. A durable name is the client id
// of a session kept after unsubscribe.

import { type BackendSubscribeOptions, type Deliver, type StatusFeed, type Stop, isMsgError, nextId } from '@msg/core';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Broker } from './broker.js';
import { type Endpoint, endClient, openClient, toConnectionError, watch } from './connection.js';
import { fromMqtt, fromTopic, toFilter } from './wire.js';

function filterOf(pattern: string, options: BackendSubscribeOptions): string {
  return options.queue === undefined ? toFilter(pattern) : `$share/${options.queue}/${toFilter(pattern)}`;
}

export function subscribe(broker: Broker, pattern: string, deliver: Deliver, options: BackendSubscribeOptions): Promise<Stop> {
  return broker.routes.add(filterOf(pattern, options), (packet) => deliver(fromMqtt(packet, fromTopic(packet.topic))), `subscribing to "${pattern}"`);
}

export interface SessionSettings {
  /** Seconds the broker keeps a durable subscription's session while it is away. */
  durableSeconds: number;
  /** Seconds it keeps a plain subscription's session after its connection is lost. */
  idleSeconds: number;
  /** Where each subscription's connection events and background failures go. */
  status: StatusFeed;
}

const MAX_RECEIVE = 65_535;

export async function subscribeConfirmed(point: Endpoint, pattern: string, deliver: Deliver, options: BackendSubscribeOptions, settings: SessionSettings): Promise<Stop> {
  const durable = options.durable !== undefined;
  const what = `subscribing to "${pattern}"${durable ? ` as "${options.durable}"` : ''}`;
  let stopped = false;
  const counted = options.deadLetter !== undefined;
  /** A nacked message waiting for its delay (one at most: MQTT.js reads the next only after a PUBACK). */
  const held = new Set<NodeJS.Timeout>();
  // Called by MQTT.js for each QoS 1 message, before it acknowledges it: `done(0)` sends the PUBACK.
  // A handler that throws gets the message again at once, or after a nack's delay (MQTT 5 lets a
  // broker resend only after a reconnect), so the failures are counted here, for a dead-letter
  // topic; a message given back at unsubscribe stays unacknowledged, for the session to keep.
  const customHandleAcks = (topic: string, _payload: Buffer, packet: IPublishPacket, done: (error: Error | number) => void) => {
    const message = fromMqtt(packet, fromTopic(topic));
    let failures = 0;
    const attempt = () =>
      deliver(
        message,
        (error, redeliverAfterMs) => {
          if (error === undefined) return done(0);
          if (stopped || isMsgError(error, 'CLOSED')) return;
          failures++;
          if (redeliverAfterMs === undefined) return void setImmediate(attempt);
          const timer = setTimeout(() => {
            held.delete(timer);
            if (!stopped) attempt();
          }, redeliverAfterMs);
          held.add(timer);
        },
        counted ? failures + 1 : undefined,
      );
    attempt();
  };
  const { client, connack } = await openClient(point, {
    clientId: options.durable ?? `msg-sub-${nextId()}`,
    clean: false,
    properties: { sessionExpiryInterval: durable ? settings.durableSeconds : settings.idleSeconds, receiveMaximum: Math.min(options.maxPending, MAX_RECEIVE) },
    customHandleAcks,
  });
  client.on('message', (topic, _payload, packet) => {
    if (packet.qos === 0) deliver(fromMqtt(packet, fromTopic(topic))); // published at QoS 0: nothing to acknowledge
  });
  const hint = durable ? ` (if this repeats: two subscribers use the durable name "${options.durable}" at once, and take its session from each other)` : '';
  watch(client, `the subscription to "${pattern}"`, settings.status, hint);
  const filter = filterOf(pattern, options);
  const stopping = () => {
    stopped = true;
    for (const timer of held) clearTimeout(timer);
    held.clear();
  };
  // A resumed session has its subscription already, and the broker sends what it kept at once:
  // waiting for the SUBACK would wait behind those messages, which are acknowledged only once the
  // caller, who waits for this subscribe, has read them. So the SUBSCRIBE (for a pattern that may
  // have changed) goes out without waiting.
  if (connack.sessionPresent) {
    client.subscribe(filter, { qos: 1 }, (error) => {
      if (error) settings.status.error(`the subscription to "${pattern}"`, toConnectionError(error, what));
    });
    return stopper(client, durable, stopping);
  }
  try {
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    const code = granted[0]?.qos;
    if (code !== undefined && code >= 0x80) throw new Error(`the broker refused the subscription to "${filter}" (reason code ${code})`);
  } catch (error) {
    await endClient(client, { sessionExpiryInterval: 0 });
    throw toConnectionError(error, what);
  }
  return stopper(client, durable, stopping);
}

function stopper(client: MqttClient, durable: boolean, stopping: () => void): Stop {
  return async () => {
    stopping();
    // No UNSUBSCRIBE: its UNSUBACK would queue behind a message given back unacknowledged. Ending a
    // plain subscription's session with expiry 0 removes its subscription with it.
    await endClient(client, durable ? undefined : { sessionExpiryInterval: 0 });
  };
}
