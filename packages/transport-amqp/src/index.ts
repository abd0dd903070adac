// The RabbitMQ (AMQP 0-9-1) transport: all four patterns over exchanges and queues, in two
// profiles: at-most-once (no-ack consumers) and at-least-once (publisher confirms, manual acks).

import {
  type Capabilities,
  InvalidArgumentError,
  StatusFeed,
  type Transport,
  type TransportFactory,
  createTransport,
  registerTransport,
} from '@msg/core';
import type { Options, SocketOptions } from 'amqplib';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { AmqpBackend } from './backend.js';
import { BrokerConnection } from './connection.js';
import { Inbox } from './inbox.js';
import { Publisher } from './publisher.js';

const MiB = 1024 * 1024;

/** The at-most-once profile: consumers take messages with no-ack; a slow subscriber drops. */
export const amqpCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  delivery: 'at-most-once',
  ordering: 'per-publisher',
  durable: true,
  replay: false,
  // RabbitMQ accepts up to 128 MiB by default (max_message_size); we promise less, see README.
  maxPayload: 16 * MiB,
  wildcards: true,
  headers: true,
  queueGroups: true,
  deadLetter: false,
  timing: { surveyDeadlineMs: 500, settleMs: 200 },
};

/** The at-least-once profile: publisher confirms, manual acks, redelivery, persistent messages. */
export const amqpConfirmedCapabilities: Capabilities = { ...amqpCapabilities, delivery: 'at-least-once', deadLetter: true };

export interface AmqpOptions {
  /**
   * `amqp://user:password@host:port/vhost`, or `amqps://` for TLS. Default
   * `amqp://guest:guest@127.0.0.1:5672` (vhost `/`).
   */
  url?: string;
  /**
   * The nodes of a RabbitMQ cluster, as `host:port`: the transport connects to the first that
   * answers, in this order, and moves to the next whenever its connection is lost. The URL then
   * gives only the scheme, the credentials and the vhost. Default: the URL's one host.
   */
  cluster?: string[];
  /** Overrides the URL's user name. */
  username?: string;
  /** Overrides the URL's password. It never appears in errors. */
  password?: string;
  /** `at-least-once` selects the confirmed profile. Default `at-most-once`. */
  delivery?: 'at-most-once' | 'at-least-once';
  /** Passed to `tls.connect` for `amqps://`: `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`... */
  tls?: TlsOptions;
  /** Heartbeat interval asked of the broker, in seconds; a dead peer is noticed within about twice it. Default 10. */
  heartbeatSeconds?: number;
  /** Largest payload, in bytes. Default 16 MiB; at most the broker's max_message_size. */
  maxPayload?: number;
  /** Backoff between reconnect attempts: doubles from `initialDelayMs` up to `maxDelayMs`. Default 100 and 5000. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** At-least-once: how long the broker keeps a subscription's queue while nobody consumes it. Default 30 minutes. */
  queueExpiresMs?: number;
  /** x-max-length of subscription queues: at-most-once drops the oldest past it, at-least-once rejects the publish. Default none. */
  maxQueueLength?: number;
  /**
   * At-least-once: `quorum` makes the subscription queues (durable, queue group and plain ones)
   * quorum queues, replicated over a cluster's nodes. Default `classic`. Not in the at-most-once
   * profile, whose queues are exclusive or deleted with their last consumer.
   */
  queueType?: 'classic' | 'quorum';
}

const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0) || !Number.isFinite(value)) throw new InvalidArgumentError(`${name} must be a positive number, got ${value}`);
  return value;
}

function clusterNode(node: string, defaultPort: number): { hostname: string; port: number } {
  const match = typeof node === 'string' ? /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(node) : null;
  if (!match) throw new InvalidArgumentError(`a cluster node is "host:port", got ${JSON.stringify(node)}`);
  const port = match[3] ? Number(match[3]) : defaultPort;
  if (!(port > 0 && port < 65536)) throw new InvalidArgumentError(`a cluster node's port must be 1-65535, got ${JSON.stringify(node)}`);
  return { hostname: (match[1] ?? match[2])!, port };
}

/** Connects to RabbitMQ; rejects with ConnectionError when it cannot (unreachable, wrong password). */
export async function createAmqpTransport(options: AmqpOptions = {}): Promise<Transport> {
  let url: URL;
  try {
    url = new URL(options.url ?? DEFAULT_URL);
  } catch {
    throw new InvalidArgumentError('url must look like amqp://user:password@host:port/vhost');
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'amqp' && protocol !== 'amqps') throw new InvalidArgumentError(`url must start with amqp:// or amqps://, got ${protocol}://`);
  const username = options.username ?? (decodeURIComponent(url.username) || 'guest');
  const password = options.password ?? (url.username || url.password ? decodeURIComponent(url.password) : 'guest');
  const vhost = decodeURIComponent(url.pathname.slice(1)) || '/';
  const defaultPort = protocol === 'amqp' ? 5672 : 5671;
  const nodes = options.cluster ? options.cluster.map((node) => clusterNode(node, defaultPort)) : [{ hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : defaultPort }];
  if (nodes.length === 0) throw new InvalidArgumentError('cluster must list at least one node, as "host:port"');
  const confirmed = options.delivery === 'at-least-once';
  const queueType = options.queueType ?? 'classic';
  if (queueType !== 'classic' && queueType !== 'quorum') throw new InvalidArgumentError(`queueType must be "classic" or "quorum", got ${JSON.stringify(queueType)}`);
  if (queueType === 'quorum' && !confirmed) {
    throw new InvalidArgumentError('queueType "quorum" needs delivery "at-least-once": the at-most-once queues are exclusive or auto-deleted, which quorum queues cannot be');
  }
  const maxPayload = positive('maxPayload', options.maxPayload, amqpCapabilities.maxPayload);
  const status = new StatusFeed('amqp');

  const server: Options.Connect = {
    protocol,
    ...nodes[0]!,
    username,
    password,
    vhost,
    heartbeat: positive('heartbeatSeconds', options.heartbeatSeconds, 10),
  };
  // Requests and replies are small and latency-bound: send each at once rather than let Nagle wait.
  const socket: SocketOptions = { ...options.tls, noDelay: true, clientProperties: { connection_name: 'msg' } };
  const connection = await BrokerConnection.open({
    server,
    nodes,
    socket,
    reconnect: {
      initialDelayMs: positive('reconnect.initialDelayMs', options.reconnect?.initialDelayMs, 100),
      maxDelayMs: positive('reconnect.maxDelayMs', options.reconnect?.maxDelayMs, 5000),
    },
    secrets: [password, encodeURIComponent(password)],
    where: ({ hostname, port }) => `${protocol}://${username}@${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}/${vhost === '/' ? '' : encodeURIComponent(vhost)}`,
    status,
  });
  try {
    const publisher = await Publisher.open(connection, confirmed, queueType === 'quorum');
    const inbox = await Inbox.open(connection);
    const capabilities = { ...(confirmed ? amqpConfirmedCapabilities : amqpCapabilities), maxPayload };
    const policy = {
      confirmed,
      queueType,
      expiresMs: positive('queueExpiresMs', options.queueExpiresMs, 30 * 60_000),
      maxLength: options.maxQueueLength,
    };
    return createTransport(new AmqpBackend(capabilities, connection, publisher, inbox, policy));
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/**
 * `amqp://` and `amqps://` connect in the at-most-once profile; `amqp+confirm://` and
 * `amqps+confirm://` in the at-least-once one.
 */
export const amqpTransport: TransportFactory<AmqpOptions> = {
  schemes: ['amqp', 'amqps', 'amqp+confirm', 'amqps+confirm'],
  connect: (url, options) => {
    const confirm = url.protocol.includes('+confirm');
    const plain = new URL(url.href.replace('+confirm:', ':'));
    return createAmqpTransport({ ...options, url: plain.href, ...(confirm ? { delivery: 'at-least-once' as const } : {}) });
  },
};

registerTransport(amqpTransport);
