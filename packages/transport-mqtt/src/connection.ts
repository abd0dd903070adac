// Opening an MQTT 5 client: credentials kept out of every message, reconnects, the first connect's
// failure (refused, unreachable, timed out) as a core ConnectionError, and the client's errors.

import { ConnectionError, InvalidArgumentError, type MsgError, type StatusFeed, isMsgError } from '@msg/core';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';

export interface MqttConnectionOptions {
  /** `mqtt://host:port` (default `mqtt://127.0.0.1:1883`) or `mqtts://` for TLS. A user and password in it are moved into `username`/`password`. */
  url?: string;
  username?: string;
  /** Never part of an error message. */
  password?: string;
  /** Client id of the transport's main connection. Default: a random `msg-...` id. */
  clientId?: string;
  /** Keep-alive in seconds. Default 30. */
  keepalive?: number;
  /** Milliseconds between reconnect attempts after a lost connection. Default 1000; 0 never reconnects. */
  reconnectPeriod?: number;
  /** Milliseconds to wait for the broker's CONNACK. Default 10,000. */
  connectTimeout?: number;
  /** Passed to `tls.connect` for `mqtts://`: `ca`, `cert`, `key`, `rejectUnauthorized`... */
  tls?: Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  /** Any other MQTT.js option, applied last. */
  client?: Partial<IClientOptions>;
}

const DEFAULT_URL = 'mqtt://127.0.0.1:1883';

export interface Endpoint {
  /** The broker, for messages: `mqtt://127.0.0.1:1883`, never a credential. */
  readonly where: string;
  readonly base: IClientOptions;
}

/** The broker address and the client options every connection of one transport shares. */
export function endpoint(options: MqttConnectionOptions): Endpoint {
  const given = options.url ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new InvalidArgumentError(`mqtt: "${given.replace(/\/\/[^@/]*@/, '//***@')}" is not a broker URL; write it as mqtt://host:port`);
  }
  const tls = url.protocol === 'mqtts:';
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || (tls ? 8883 : 1883));
  const base: IClientOptions = {
    protocol: tls ? 'mqtts' : 'mqtt',
    host,
    port,
    protocolVersion: 5,
    keepalive: options.keepalive ?? 30,
    reconnectPeriod: options.reconnectPeriod ?? 1000,
    connectTimeout: options.connectTimeout ?? 10_000,
    // Fail at once while disconnected rather than queue what may never be sent.
    queueQoSZero: false,
    ...options.tls,
  };
  const username = options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (username !== undefined) base.username = username;
  if (password !== undefined) base.password = password;
  Object.assign(base, options.client);
  return { where: `${tls ? 'mqtts' : 'mqtt'}://${host}:${port}`, base };
}

/** MQTT 5 CONNACK reason codes that mean "your credentials", to say so in the message. */
const CREDENTIAL_CODES = new Set([4, 5, 134, 135]);

export function toConnectionError(error: unknown, what: string): MsgError {
  if (isMsgError(error)) return error;
  const code = (error as { code?: unknown })?.code;
  const detail = error instanceof Error ? error.message : String(error);
  if (typeof code === 'number' && CREDENTIAL_CODES.has(code)) {
    return new ConnectionError(`mqtt: ${what} was refused by the broker (${detail}); check the user name and password`, { cause: error });
  }
  return new ConnectionError(`mqtt: ${what} failed: ${detail}`, { cause: error });
}

/**
 * Connects one client and resolves once the broker accepted it. A refusal or an unreachable broker
 * rejects, and the client is ended so that it does not keep trying in the background.
 */
export function openClient(point: Endpoint, extra: IClientOptions): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = mqtt.connect({ ...point.base, ...extra, properties: { ...point.base.properties, ...extra.properties } });
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => {
      cleanup();
      client.end(true);
      reject(toConnectionError(error, `connecting to ${point.where}`));
    };
    const onConnect = (connack: IConnackPacket) => {
      cleanup();
      resolve({ client, connack });
    };
    // MQTT.js reports a connect timeout and a closed socket only as `close`.
    const onClose = () => fail(new Error('the broker closed the connection or did not answer in time'));
    const cleanup = () => {
      client.off('connect', onConnect);
      client.off('error', fail);
      client.off('close', onClose);
    };
    client.on('connect', onConnect);
    client.on('error', fail);
    client.on('close', onClose);
  });
}

/**
 * Passes one client's events to the transport's status feed, as `connection`: a connection lost
 * other than by our own end (a broker gone, a DISCONNECT it sent, or a session taken over by another
 * client with the same id, which Mosquitto does without a DISCONNECT; `hint` says what may cause
 * it), each reconnect attempt, the reconnect, and the client's errors.
 */
export function watch(client: MqttClient, connection: string, status: StatusFeed, hint = ''): void {
  let attempt = 0;
  let reason = '';
  client.on('error', (error) => status.error(connection, toConnectionError(error, connection)));
  client.on('disconnect', (packet) => {
    const said = packet.properties?.reasonString;
    reason = ` (the broker sent DISCONNECT, reason code ${packet.reasonCode ?? 0}${said ? `: ${said}` : ''})`;
  });
  client.on('offline', () => {
    if (client.disconnecting) return;
    attempt = 0;
    const error = new ConnectionError(`mqtt: ${connection} lost its connection to the broker${reason}; the client reconnects${hint}`);
    reason = '';
    status.emit({ type: 'disconnected', connection, error });
  });
  client.on('reconnect', () => {
    status.emit({ type: 'reconnecting', connection, attempt: ++attempt, delayMs: client.options.reconnectPeriod ?? 0 });
  });
  client.on('connect', () => {
    if (attempt > 0) status.emit({ type: 'reconnected', connection });
    attempt = 0;
  });
}

/** Ends a client, sending DISCONNECT (with `properties`) when connected; never rejects. */
export function endClient(client: MqttClient, properties?: { sessionExpiryInterval?: number }): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = !client.connected;
    client.end(force, properties ? { properties } : {}, () => resolve());
  });
}
