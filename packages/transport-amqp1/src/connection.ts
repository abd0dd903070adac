// Opening an AMQP 1.0 connection with rhea: credentials kept out of every message, SASL PLAIN or
// ANONYMOUS, the first connect's failure (refused, unreachable, timed out) as a core
// ConnectionError, reconnects after that, and the connection's background failures.

import { ConnectionError, InvalidArgumentError, type MsgError, isMsgError } from '@msg/core';
import rhea, { type Connection, type ConnectionOptions, type EventContext } from 'rhea';

export interface Amqp1ConnectionOptions {
  /** `amqp1://host:port` (default `amqp1://127.0.0.1:5673`). A user and password in it are moved into `username`/`password`. */
  url?: string;
  username?: string;
  /** Never part of an error message. */
  password?: string;
  /** Milliseconds between reconnect attempts after a lost connection. Default 1000; 0 never reconnects. */
  reconnectPeriod?: number;
  /** Milliseconds to wait for the broker to open the connection. Default 10,000. */
  connectTimeout?: number;
  /** Any other rhea connection option (`idle_time_out`, `max_frame_size`, TLS with `transport: 'tls'`...), applied last. */
  connection?: Record<string, unknown>;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 5673;

export interface Endpoint {
  /** The broker, for messages: `amqp1://127.0.0.1:5673`, never a credential. */
  readonly where: string;
  readonly base: ConnectionOptions;
  readonly reconnectPeriod: number;
  readonly connectTimeout: number;
}

/** The broker address and the options every connection of one transport shares. */
export function endpoint(options: Amqp1ConnectionOptions): Endpoint {
  const given = options.url ?? `amqp1://${DEFAULT_HOST}:${DEFAULT_PORT}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new InvalidArgumentError(`amqp1: "${given.replace(/\/\/[^@/]*@/, '//***@')}" is not a broker URL; write it as amqp1://host:port`);
  }
  const host = url.hostname || DEFAULT_HOST;
  const port = Number(url.port || DEFAULT_PORT);
  const username = options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  const base = {
    host,
    port,
    // rhea's own reconnect is turned on once the first connect succeeded (see openConnection).
    reconnect: false,
    idle_time_out: 30_000,
    // ActiveMQ asks for SASL: PLAIN with credentials, ANONYMOUS without.
    username: username ?? 'anonymous',
    ...options.connection,
  } as ConnectionOptions;
  if (password !== undefined) base.password = password;
  return { where: `amqp1://${host}:${port}`, base, reconnectPeriod: options.reconnectPeriod ?? 1000, connectTimeout: options.connectTimeout ?? 10_000 };
}

/** An AMQP error condition (`{ condition, description }`) as one line. */
export function describeCondition(error: unknown): string {
  if (error instanceof Error) return error.message;
  const { condition, description } = (error ?? {}) as { condition?: unknown; description?: unknown };
  if (condition === undefined && description === undefined) return String(error);
  return [condition, description].filter((part) => part !== undefined && part !== '').join(': ');
}

export function toConnectionError(error: unknown, what: string): MsgError {
  if (isMsgError(error)) return error;
  const detail = describeCondition(error);
  if (/unauthorized|authenticat|sasl|credentials|security/i.test(detail)) {
    return new ConnectionError(`amqp1: ${what} was refused by the broker (${detail}); check the user name and password`, { cause: error });
  }
  return new ConnectionError(`amqp1: ${what} failed: ${detail}`, { cause: error });
}

/**
 * Connects and resolves once the broker has opened the connection; from then on rhea reconnects
 * every `reconnectPeriod` ms and attaches the connection's links again. A refusal, an unreachable
 * broker or no answer in time rejects, and the connection is closed so that it does not keep trying.
 */
export function openConnection(point: Endpoint, containerId: string): Promise<Connection> {
  const container = rhea.create_container({ id: containerId });
  const connection = container.connect({ ...point.base, container_id: containerId });
  return new Promise((resolve, reject) => {
    let failed: unknown;
    const timer = setTimeout(() => fail(new Error(`no answer within ${point.connectTimeout} ms`)), point.connectTimeout);
    const fail = (error: unknown) => {
      cleanup();
      connection.close();
      connection.socket?.destroy();
      reject(toConnectionError(error, `connecting to ${point.where}`));
    };
    // A broker that refuses after opening (ActiveMQ: a container id already connected) sends its
    // close right behind the open, in the same read: look once that has been processed.
    const onOpen = () => setImmediate(opened);
    const opened = () => {
      if (failed !== undefined || !connection.is_open()) return fail(failed ?? new Error('the broker closed the connection'));
      cleanup();
      if (point.reconnectPeriod > 0) {
        connection.options.initial_reconnect_delay = point.reconnectPeriod;
        connection.options.max_reconnect_delay = point.reconnectPeriod;
        connection.set_reconnect(true);
      }
      resolve(connection);
    };
    // A SASL or open refusal comes as connection_error, then the socket closes (disconnected).
    const onError = (context: EventContext) => (failed ??= context.connection.error ?? context.error);
    const onDisconnected = (context: EventContext) => fail(failed ?? context.error ?? new Error('the broker closed the connection'));
    const cleanup = () => {
      clearTimeout(timer);
      connection.removeListener('connection_open', onOpen);
      connection.removeListener('connection_error', onError);
      connection.removeListener('disconnected', onDisconnected);
      connection.removeListener('error', onError);
    };
    connection.on('connection_open', onOpen);
    connection.on('connection_error', onError);
    connection.on('error', onError);
    connection.on('disconnected', onDisconnected);
  });
}

/**
 * Closes a connection and resolves once its socket is gone: the broker answers the close, and the
 * socket ends. Never rejects; a broker that does not answer within `ms` has its socket destroyed.
 */
export function closeConnection(connection: Connection, ms = 2000): Promise<void> {
  connection.set_reconnect(false);
  // rhea's close leaves a reconnect it has already scheduled (the broker being away) to run later.
  const pending = connection as unknown as { scheduled_reconnect?: NodeJS.Timeout };
  clearTimeout(pending.scheduled_reconnect);
  pending.scheduled_reconnect = undefined;
  const socket = connection.socket;
  if (!socket || socket.destroyed) {
    connection.close();
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    connection.once('connection_close', () => socket.end());
    connection.close();
  });
}
