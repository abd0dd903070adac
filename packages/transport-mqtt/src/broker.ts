// The transport's main connection: one MQTT client with its subscriptions (see Routes), and the two
// ways of sending on it: at most once (QoS 0, handed to the socket at once) and confirmed (QoS 1,
// settled by the broker's PUBACK).

import { ClosedError, ConnectionError, type MsgError } from '@msg/core';
import type { MqttClient } from 'mqtt';
import { toConnectionError } from './connection.js';
import { Routes } from './routes.js';
import { type Properties, asBuffer, checkPacket } from './wire.js';

export class Broker {
  readonly client: MqttClient;
  readonly routes: Routes;
  /** Where, for messages: `mqtt://127.0.0.1:1883`. */
  readonly where: string;
  /** The broker's Maximum Packet Size from CONNACK, or MQTT's own limit. */
  readonly packetLimit: number;
  /** Confirmed publishes waiting for their PUBACK, failed on close so that none hangs. */
  readonly #confirming = new Set<(error: MsgError) => void>();

  constructor(client: MqttClient, where: string, packetLimit: number) {
    this.client = client;
    this.routes = new Routes(client);
    this.where = where;
    this.packetLimit = packetLimit;
  }

  checkConnected(what: string): void {
    if (!this.client.connected) {
      throw new ConnectionError(`mqtt: ${what} failed: the connection to ${this.where} is lost and being re-established; try again`);
    }
  }

  /** QoS 0: written to the socket before this returns (the client keeps no copy, so the bytes are copied). */
  send(topic: string, data: Uint8Array, properties: Properties, what: string): void {
    this.checkConnected(what);
    checkPacket(what, topic, data, 0, properties, this.packetLimit);
    this.client.publish(topic, Buffer.from(data), { qos: 0, properties });
  }

  /**
   * QoS 1: resolves on the broker's PUBACK. The client keeps the packet until then and sends it
   * again after a reconnect, so the data is not copied (it is the caller's again once this settles).
   */
  sendConfirmed(topic: string, data: Uint8Array, properties: Properties, what: string): Promise<void> {
    this.checkConnected(what);
    checkPacket(what, topic, data, 1, properties, this.packetLimit);
    return new Promise<void>((resolve, reject) => {
      const fail = (error: MsgError) => {
        this.#confirming.delete(fail);
        reject(error);
      };
      this.#confirming.add(fail);
      this.client.publish(topic, asBuffer(data), { qos: 1, properties }, (error) => {
        if (!this.#confirming.delete(fail)) return;
        if (error) reject(toConnectionError(error, what));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.client.end(!this.client.connected, {}, () => resolve()));
    for (const fail of [...this.#confirming]) fail(new ClosedError('the transport was closed before the broker confirmed the publish'));
  }
}
