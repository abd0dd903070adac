// The main connection's subscriptions. MQTT keeps one subscription per filter and client, so two
// subscribers of one filter on one transport share it: the broker subscription is counted and the
// message is handed out here. Each filter carries a subscription identifier, which the broker puts
// on every message it delivers for it, so that a message reaches exactly the listeners of the
// filter it matched (a shared `$share/...` filter and a plain one on the same topic stay apart).

import { ConnectionError, type Stop } from '@msg/core';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { toConnectionError } from './connection.js';

export type Listener = (packet: IPublishPacket) => void;

interface Route {
  readonly filter: string;
  readonly id: number;
  readonly listeners: Listener[];
  /** Settles once the broker has granted the subscription. */
  readonly granted: Promise<void>;
  /** Round robin over the listeners of a shared filter. */
  turn: number;
}

const SHARED = '$share/';

export class Routes {
  readonly #client: MqttClient;
  readonly #byFilter = new Map<string, Route>();
  readonly #byId = new Map<number, Route>();
  /** Filters whose UNSUBSCRIBE is on its way: subscribing again waits for it (the client would skip the SUBSCRIBE meanwhile). */
  readonly #leaving = new Map<string, Promise<void>>();
  #nextId = 0;

  constructor(client: MqttClient) {
    this.#client = client;
    client.on('message', (_topic, _payload, packet) => {
      const ids = packet.properties?.subscriptionIdentifier;
      if (ids === undefined) return;
      for (const id of Array.isArray(ids) ? ids : [ids]) this.#dispatch(this.#byId.get(id), packet);
    });
  }

  /**
   * Resolves once messages to `filter` reach `listener`. Listeners of a shared filter (`$share/g/...`)
   * take turns: the broker gave the message to this client as one member of the group.
   */
  async add(filter: string, listener: Listener, what: string): Promise<Stop> {
    // Offline, the client would hold the SUBSCRIBE until a reconnect that may never come.
    if (!this.#client.connected) throw new ConnectionError(`mqtt: ${what} failed: the connection to the broker is lost and being re-established; try again`);
    await this.#leaving.get(filter);
    let route = this.#byFilter.get(filter);
    if (!route) {
      this.#nextId = (this.#nextId % 268_435_455) + 1;
      const id = this.#nextId;
      const granted = this.#subscribe(filter, id, what);
      route = { filter, id, listeners: [], granted, turn: 0 };
      this.#byFilter.set(filter, route);
      this.#byId.set(id, route);
      granted.catch(() => this.#forget(route as Route));
    }
    route.listeners.push(listener);
    const added = route;
    try {
      await added.granted;
    } catch (error) {
      added.listeners.splice(added.listeners.indexOf(listener), 1);
      throw error;
    }
    return () => this.#remove(added, listener);
  }

  #subscribe(filter: string, id: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#client.subscribe(filter, { qos: 0, properties: { subscriptionIdentifier: id } }, (error, granted) => {
        if (error) return reject(toConnectionError(error, what));
        const code = granted?.[0]?.qos;
        if (code !== undefined && code >= 0x80) return reject(toConnectionError(new Error(`the broker refused the subscription to "${filter}" (reason code ${code})`), what));
        resolve();
      });
    });
  }

  async #remove(route: Route, listener: Listener): Promise<void> {
    const at = route.listeners.indexOf(listener);
    if (at >= 0) route.listeners.splice(at, 1);
    if (route.listeners.length > 0 || this.#byFilter.get(route.filter) !== route) return;
    this.#forget(route);
    if (!this.#client.connected) return; // the broker forgets it with the session
    const left = new Promise<void>((resolve) => this.#client.unsubscribe(route.filter, () => resolve())).finally(() => this.#leaving.delete(route.filter));
    this.#leaving.set(route.filter, left);
    await left;
  }

  #forget(route: Route): void {
    if (this.#byFilter.get(route.filter) === route) this.#byFilter.delete(route.filter);
    this.#byId.delete(route.id);
  }

  #dispatch(route: Route | undefined, packet: IPublishPacket): void {
    if (!route || route.listeners.length === 0) return;
    if (route.filter.startsWith(SHARED)) {
      route.turn = (route.turn + 1) % route.listeners.length;
      route.listeners[route.turn]?.(packet);
      return;
    }
    for (const listener of route.listeners.length === 1 ? route.listeners : [...route.listeners]) listener(packet);
  }
}
