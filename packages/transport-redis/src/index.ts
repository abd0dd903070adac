// @msg/transport-redis: the msg API over Redis. Two profiles on one server: `redis://` publishes on
// pub/sub (at-most-once, wildcards), `redis+streams://` on Streams (at-least-once, durable, queue
// groups). Request/reply, survey and bus are the same in both.

import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { type Capabilities, InvalidArgumentError, StatusFeed, type Transport, type TransportFactory, createTransport, registerTransport } from '@msg/core';
import { RedisBackend } from './backend.js';

const MiB = 1024 * 1024;

/**
 * Payloads stay well under Redis's pub/sub output buffer limits (8 MiB soft, 32 MiB hard by
 * default), past which the server disconnects a subscriber.
 */
const MAX_PAYLOAD = 4 * MiB;

/** Plain Redis pub/sub: nothing is stored, so a subscriber that is away or too slow misses messages. */
export const redisCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  delivery: 'at-most-once',
  ordering: 'per-publisher',
  durable: false,
  replay: false,
  maxPayload: MAX_PAYLOAD,
  wildcards: true,
  headers: true,
  queueGroups: false,
  deadLetter: false,
  timing: { surveyDeadlineMs: 300, settleMs: 100 },
};

/** Redis Streams with consumer groups: stored, acknowledged, redelivered; one topic per stream, so no wildcards. */
export const redisStreamsCapabilities: Capabilities = {
  patterns: ['request', 'publish', 'survey', 'bus'],
  delivery: 'at-least-once',
  ordering: 'per-publisher',
  durable: true,
  replay: true,
  maxPayload: MAX_PAYLOAD,
  wildcards: false,
  headers: true,
  queueGroups: true,
  deadLetter: true,
  timing: { surveyDeadlineMs: 300, settleMs: 100 },
};

export interface RedisTransportOptions {
  /**
   * Redis Cluster: nodes to start from, `'host:port'` or `{ host, port }`; the client learns the
   * others, sends each key's commands to the node that holds its slot and follows failovers.
   * `host`/`port` are then not used, and `db` must stay 0. Default: one server, no cluster.
   */
  cluster?: Array<string | { host: string; port: number }>;
  /**
   * Streams profile: a publish resolves once this many replicas confirmed the entry (WAIT), so that
   * a failover cannot lose it. Default 1 on a cluster, 0 (the master's answer) on one server.
   */
  replicaAcks?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 6379. */
  port?: number;
  /** An ACL user; without it, the `default` user. */
  username?: string;
  password?: string;
  /** Database number. Default 0. */
  db?: number;
  /** Connect with TLS using these options (node:tls), passed to the client as they are. */
  tls?: TlsOptions;
  /** `streams` for the durable profile. Default `pubsub`. */
  profile?: 'pubsub' | 'streams';
  /** Start of every key and channel this transport uses. Default `msg`. */
  prefix?: string;
  /** Connections are named `<connectionName>:<role>` (CLIENT LIST shows it). Default `msg`. */
  connectionName?: string;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** A command without an answer for this long fails, also while reconnecting. Default 5000. */
  commandTimeoutMs?: number;
  /** Streams are trimmed to about this many entries (XADD MAXLEN ~). Default 100,000. */
  maxStreamLength?: number;
  /** Streams and request lists expire after this long without a publish, subscribe or request. Default 7 days. */
  keyExpiryMs?: number;
  /** A stream entry left unacknowledged this long is redelivered to another group member. Default 30,000. */
  claimIdleMs?: number;
  /** Requests one replier serves at once. Default 64. */
  replyConcurrency?: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** Connects to Redis; rejects with ConnectionError when the server is down or refuses the credentials. */
export async function createRedisTransport(options: RedisTransportOptions = {}): Promise<Transport> {
  const streams = (options.profile ?? 'pubsub') === 'streams';
  if (options.profile !== undefined && options.profile !== 'pubsub' && options.profile !== 'streams') {
    throw new InvalidArgumentError(`profile must be "pubsub" or "streams", got ${JSON.stringify(options.profile)}`);
  }
  const prefix = options.prefix ?? 'msg';
  if (prefix === '' || /\s/.test(prefix)) throw new InvalidArgumentError('prefix must be a non-empty string without spaces');
  const cluster = options.cluster?.map(clusterNode);
  if (cluster?.length === 0) throw new InvalidArgumentError('cluster must list at least one node, as "host:port"');
  if (cluster && (options.db ?? 0) !== 0) throw new InvalidArgumentError('Redis Cluster has database 0 only; leave db unset');
  const replicaAcks = options.replicaAcks ?? (cluster ? 1 : 0);
  if (!Number.isInteger(replicaAcks) || replicaAcks < 0) throw new InvalidArgumentError(`replicaAcks must be a whole number of at least 0, got ${replicaAcks}`);
  const backend = await RedisBackend.open({
    server: {
      host: cluster?.[0]?.host ?? options.host ?? '127.0.0.1',
      port: cluster?.[0]?.port ?? positive('port', options.port, 6379),
      cluster,
      username: options.username,
      password: options.password,
      db: options.db ?? 0,
      tls: options.tls,
      connectionName: options.connectionName ?? 'msg',
      connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 5000),
      commandTimeoutMs: positive('commandTimeoutMs', options.commandTimeoutMs, 5000),
      status: new StatusFeed(streams ? 'redis+streams' : 'redis'),
    },
    capabilities: streams ? redisStreamsCapabilities : redisCapabilities,
    streams,
    prefix,
    maxStreamLength: positive('maxStreamLength', options.maxStreamLength, 100_000),
    keyExpiryMs: positive('keyExpiryMs', options.keyExpiryMs, 7 * 24 * 3600 * 1000),
    claimIdleMs: positive('claimIdleMs', options.claimIdleMs, 30_000),
    replicaAcks,
    replyConcurrency: positive('replyConcurrency', options.replyConcurrency, 64),
  });
  return createTransport(backend);
}

function clusterNode(node: string | { host: string; port: number }): { host: string; port: number } {
  if (typeof node !== 'string') {
    if (typeof node?.host !== 'string' || !Number.isInteger(node.port) || node.port <= 0) throw new InvalidArgumentError('a cluster node is "host:port" or { host, port }');
    return node;
  }
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(node);
  if (!match) throw new InvalidArgumentError(`a cluster node is "host:port", got ${JSON.stringify(node)}`);
  return { host: match[1]!, port: Number(match[2]) };
}

/**
 * `redis://[user:password@]host[:port][/db]`; `rediss://` adds TLS; `redis+streams://` and
 * `rediss+streams://` pick the durable profile. `redis+cluster://host:port` and
 * `redis+cluster+streams://host:port` connect to a Redis Cluster through that node. Options given
 * beside the URL win.
 */
export const redisTransport: TransportFactory<RedisTransportOptions> = {
  schemes: ['redis', 'rediss', 'redis+streams', 'rediss+streams', 'redis+cluster', 'redis+cluster+streams'],
  connect: (url, options = {}) => {
    const scheme = url.protocol.replace(/:$/, '');
    if (scheme.startsWith('redis+cluster')) {
      // The URL names one node to start from; more go in the cluster option.
      const seed = `${url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'}:${url.port || 6379}`;
      return createRedisTransport({
        cluster: [seed],
        username: url.username ? decodeURIComponent(url.username) : undefined,
        password: url.password ? decodeURIComponent(url.password) : undefined,
        profile: scheme.endsWith('+streams') ? 'streams' : 'pubsub',
        ...definedOnly(options),
      });
    }
    const db = url.pathname.replace(/^\/+/, '');
    if (db !== '' && !/^\d+$/.test(db)) {
      return Promise.reject(new InvalidArgumentError(`the path of a Redis URL is a database number, got "/${db}"`));
    }
    const fromUrl: RedisTransportOptions = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1') || undefined,
      port: url.port ? Number(url.port) : undefined,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      db: db === '' ? undefined : Number(db),
      tls: scheme.startsWith('rediss') ? {} : undefined,
      profile: scheme.endsWith('+streams') ? 'streams' : 'pubsub',
    };
    return createRedisTransport({ ...fromUrl, ...definedOnly(options) });
  },
};

function definedOnly(options: RedisTransportOptions): RedisTransportOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

registerTransport(redisTransport);
