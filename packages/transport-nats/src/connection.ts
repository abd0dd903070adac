// Opening the client connection: credentials taken out of URLs (so they never reach an error
// message), reconnect with backoff, and the first connect's failure as a core ConnectionError.

import { ConnectionError, InvalidArgumentError, type Stop } from '@msg/core';
import { type NatsConnection, type NodeConnectionOptions, type Subscription, connect } from '@nats-io/transport-node';
import { toCoreError } from './errors.js';

export type NatsTlsOptions = NonNullable<NodeConnectionOptions['tls']>;

export interface NatsConnectionOptions {
  /**
   * Server URLs, `nats://host:port` or `tls://host:port`. Default `nats://127.0.0.1:4222`. A
   * credential in a URL (`nats://TOKEN@host`, `nats://USER:PASS@host`) is moved into `token` or
   * `user`/`pass`, so that it never appears in an error message.
   */
  servers?: string | string[];
  token?: string;
  user?: string;
  pass?: string;
  /** Passed to the client as is: `caFile`, `certFile`, `keyFile`, `ca`, `cert`, `key`, `handshakeFirst`, `rejectUnauthorized`. */
  tls?: NatsTlsOptions;
  /** The connection's name, shown by the server's monitoring. */
  name?: string;
  /** Reconnect attempts per server after the connection is lost; -1 (default) never gives up. */
  maxReconnectAttempts?: number;
  /** Bounds of the reconnect backoff in ms. Default `{ min: 100, max: 5000 }`. */
  reconnectDelay?: { min: number; max: number };
  /**
   * How often the client pings the server; after two pings go unanswered the connection is given
   * up and the client moves to another server. This is what notices a server cut off by the network,
   * which sends no reset. Default 10,000 (the client's own default is 2 minutes).
   */
  pingIntervalMs?: number;
  /**
   * How long one attempt to connect to a server may take. After losing a server the client dials that
   * same server again first, and to a server cut off that attempt lasts all of this before the next
   * server is tried. Default 2,000 (the client's own default is 20 s).
   */
  connectTimeoutMs?: number;
  /** Any other option of the NATS client, applied last. */
  client?: Partial<NodeConnectionOptions>;
}

const DEFAULT_SERVER = 'nats://127.0.0.1:4222';

interface Credentials {
  token?: string;
  user?: string;
  pass?: string;
}

/** `nats://TOKEN@host:4222` → server `nats://host:4222` and the token; schemes like `nats+jetstream` become `nats`. */
export function splitCredentials(server: string, found: Credentials): string {
  let url: URL;
  try {
    url = new URL(server.includes('://') ? server : `nats://${server}`);
  } catch {
    throw new ConnectionError(`nats: "${server.replace(/\/\/[^@/]*@/, '//***@')}" is not a server URL; write it as nats://host:port`);
  }
  if (url.username) {
    const user = decodeURIComponent(url.username);
    if (url.password) {
      found.user ??= user;
      found.pass ??= decodeURIComponent(url.password);
    } else {
      found.token ??= user;
    }
  }
  const scheme = url.protocol.startsWith('tls') ? 'tls' : 'nats';
  return `${scheme}://${url.host}`;
}

/**
 * Reconnect delay that grows with how long the connection has been down (half of it, within the
 * bounds), plus jitter so that many clients of one restarted server do not all return at once.
 */
export function reconnectBackoff(min: number, max: number): { delay: () => number; reset: () => void } {
  let downSince: number | undefined;
  return {
    delay: () => {
      const now = Date.now();
      downSince ??= now;
      return Math.min(max, Math.max(min, (now - downSince) / 2)) + Math.random() * min;
    },
    reset: () => {
      downSince = undefined;
    },
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new InvalidArgumentError(`${name} must be a positive number of milliseconds, got ${value}`);
  return value;
}

export interface OpenConnection {
  nc: NatsConnection;
  /** Call on every successful (re)connect, so that the next outage starts from the shortest delay. */
  connected: () => void;
}

export async function openConnection(options: NatsConnectionOptions): Promise<OpenConnection> {
  const credentials: Credentials = { token: options.token, user: options.user, pass: options.pass };
  const listed = options.servers ?? DEFAULT_SERVER;
  const servers = (Array.isArray(listed) ? listed : [listed]).map((server) => splitCredentials(server, credentials));
  const bounds = options.reconnectDelay ?? { min: 100, max: 5000 };
  const backoff = reconnectBackoff(bounds.min, bounds.max);
  const settings: NodeConnectionOptions = {
    servers,
    name: options.name,
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    reconnectDelayHandler: backoff.delay,
    pingInterval: positive('pingIntervalMs', options.pingIntervalMs, 10_000),
    maxPingOut: 2,
    timeout: positive('connectTimeoutMs', options.connectTimeoutMs, 2000),
  };
  if (credentials.token !== undefined) settings.token = credentials.token;
  if (credentials.user !== undefined) settings.user = credentials.user;
  if (credentials.pass !== undefined) settings.pass = credentials.pass;
  if (options.tls !== undefined) settings.tls = options.tls;
  Object.assign(settings, options.client);
  try {
    const nc = await connect(settings);
    backoff.reset();
    return { nc, connected: backoff.reset };
  } catch (error) {
    throw toCoreError(error, { what: `connecting to ${servers.join(', ')}` });
  }
}

/**
 * Resolves once the server has the subscription (a PING round trip after the SUB), so that what is
 * published from then on reaches it; undoes the subscription when that fails.
 */
export async function confirmed(nc: NatsConnection, subscription: Subscription, what: string): Promise<Stop> {
  try {
    await nc.flush();
  } catch (error) {
    subscription.unsubscribe();
    throw toCoreError(error, { what });
  }
  return async () => subscription.unsubscribe();
}
