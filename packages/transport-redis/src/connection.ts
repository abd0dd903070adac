// Opening and closing the client connections an adapter uses, with the settings every one of them
// needs, and the translation of the client's errors into core errors without leaking secrets.

import { randomUUID } from 'node:crypto';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { ConnectionError, type StatusFeed } from '@msg/core';
import { Cluster, Redis } from 'ioredis';

export interface ServerSettings {
  host: string;
  port: number;
  /** Redis Cluster: the nodes to start from (the client learns the rest); host and port are the first. */
  cluster: { host: string; port: number }[] | undefined;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: TlsOptions | undefined;
  /** CLIENT SETNAME of every connection is `<connectionName>:<role>`, so operators can find them. */
  connectionName: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Where every connection's losses, reconnects and background failures go. */
  status: StatusFeed;
}

/**
 * command: PUBLISH, XADD, scripts, acks. subscriber: SUBSCRIBE/PSUBSCRIBE only.
 * blocking: one per replier or stream subscription, since BRPOP/XREADGROUP BLOCK hold the connection.
 */
export type Role = 'command' | 'subscriber' | 'blocking';

/** Reconnect delays: doubling from 50 ms to 2 s, with jitter so that many clients do not retry in step. */
export function backoff(attempt: number): number {
  const base = Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Errors of AUTH and HELLO carry the command's arguments, the password among them: keep only the text. */
export function redact(error: unknown): unknown {
  const command = (error as { command?: { name?: string } } | null)?.command;
  if (error instanceof Error && command && /^(auth|hello)$/i.test(command.name ?? '')) {
    const copy = new Error(error.message);
    copy.name = error.name;
    return copy;
  }
  return error;
}

export function where(settings: ServerSettings): string {
  if (settings.cluster) return `redis cluster at ${settings.cluster.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  return `redis at ${settings.host}:${settings.port}`;
}

/** A cluster client asks the cluster again which node holds which slots; resolves when it knows. */
export function refreshLayout(client: Redis): Promise<void> {
  return new Promise((resolve) => (client as unknown as Cluster).refreshSlotsCache(() => resolve()));
}

/** Whether a client is a cluster client: its Redis-only internals (socket, queues) are not there. */
export function isCluster(client: Redis): boolean {
  return (client as unknown as { isCluster?: boolean }).isCluster === true;
}

export function connectionError(settings: ServerSettings, what: string, error: unknown): ConnectionError {
  const detail = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`${where(settings)}: ${what}: ${detail}`, { cause: redact(error) });
}

/**
 * Opens one connection and waits until it is ready. A server that refuses it (down, wrong password)
 * rejects with ConnectionError at once; once it has been ready, a lost connection is retried with
 * backoff for as long as the transport lives.
 *
 * @param blockMs how long the blocking commands of this connection may wait in the server, added to
 *   the command timeout so that a long poll is not mistaken for a dead server.
 * @param connection how status events name it
 */
export async function openConnection(settings: ServerSettings, role: Role, blockMs = 0, connection: string = role): Promise<Redis> {
  let ready = false;
  let lastError: unknown;
  const options = {
    username: settings.username,
    password: settings.password,
    tls: settings.tls,
    connectionName: `${settings.connectionName}:${role}`,
    // Small messages must not wait for Nagle's algorithm; ioredis's default, stated on purpose.
    noDelay: true,
    connectTimeout: settings.connectTimeoutMs,
    // Every command settles: a reply, an error, or this timeout, even while the server is away and
    // the command waits in the offline queue.
    commandTimeout: settings.commandTimeoutMs + blockMs,
    maxRetriesPerRequest: 2,
  };
  const client = settings.cluster
    ? openCluster(settings.cluster, options, role, () => ready)
    : new Redis({
        ...options,
        host: settings.host,
        port: settings.port,
        db: settings.db,
        lazyConnect: true,
        // Not ioredis's auto-pipelining: it holds every command back while an earlier batch waits for
        // its replies, a round trip added to each request and reply under load. See writePerTick.
        enableAutoPipelining: false,
        retryStrategy: (attempt) => (ready ? backoff(attempt) : null),
      });
  if (role !== 'subscriber' && !settings.cluster) writePerTick(client);
  // Without a listener ioredis prints each error. Before the first connect they make the rejection;
  // later, the one that cut the connection is the cause of its `disconnected` event, and those of
  // reconnect attempts are not news.
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    drop(client);
    throw connectionError(settings, 'could not connect', lastError ?? error);
  }
  ready = true;
  watch(client, settings, connection, () => lastError);
  if (settings.cluster) {
    // One node failing is no lost connection (the client goes on with the others and follows a
    // failover), but a user watching status() should see it.
    client.on('node error', (error: unknown, node: string) => {
      if (!ending.has(client)) settings.status.error(connection, connectionError(settings, `node ${node} failed; the client follows the cluster's new layout`, error));
    });
  }
  return client;
}

/**
 * A Redis Cluster client. It has the command API of a single-server client for every command the
 * adapter sends (each key's command goes to the node that holds its slot), so it is handed on as one.
 */
function openCluster(nodes: { host: string; port: number }[], redisOptions: object, role: Role, ready: () => boolean): Redis {
  const cluster = new Cluster(nodes, {
    redisOptions,
    lazyConnect: true,
    enableAutoPipelining: false,
    // Commands go to masters only: a replica's copy lags, and a stream read there would miss entries.
    scaleReads: 'master',
    clusterRetryStrategy: (attempt) => (ready() ? backoff(attempt) : null),
    // A failover takes the cluster-node-timeout and an election: commands that meet a moved or
    // failing slot are retried meanwhile, within their command timeout.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    // SSUBSCRIBE (the repliers' presence channels) goes to the node that holds the channel's slot.
    shardedSubscribers: role === 'subscriber',
  });
  if (role === 'command') publishThroughOneNode(cluster);
  return cluster as unknown as Redis;
}

/**
 * A cluster client sends a command without a key, PUBLISH among them, to a node picked at random
 * each time; a publisher's messages would then overtake one another on their way through the
 * cluster bus. Here PUBLISH runs in a script keyed by a name of this client's own, so that every
 * message of one publisher goes through the node that holds that key's slot.
 */
function publishThroughOneNode(cluster: Cluster): void {
  const anchor = `msg:publisher:{${randomUUID()}}`;
  cluster.defineCommand('msgPublish', { numberOfKeys: 1, lua: "return redis.call('PUBLISH', ARGV[1], ARGV[2])" });
  const viaScript = cluster as unknown as { msgPublish(key: string, channel: string | Buffer, message: string | Buffer): Promise<number> };
  cluster.publish = ((channel: string | Buffer, message: string | Buffer) => viaScript.msgPublish(anchor, channel, message)) as Cluster['publish'];
}

/** Clients that this process is ending: their close is no event. */
const ending = new WeakSet<Redis>();

function watch(client: Redis, settings: ServerSettings, connection: string, lastError: () => unknown): void {
  let attempt = 0;
  let lost = false;
  client.on('close', () => {
    if (lost || ending.has(client)) return;
    lost = true;
    attempt = 0;
    const cause = lastError();
    settings.status.emit({ type: 'disconnected', connection, error: connectionError(settings, 'the connection was lost; the client reconnects', cause ?? 'closed by the server') });
  });
  client.on('reconnecting', (delayMs: number) => {
    if (!ending.has(client)) settings.status.emit({ type: 'reconnecting', connection, attempt: ++attempt, delayMs });
  });
  client.on('ready', () => {
    if (!lost) return;
    lost = false;
    settings.status.emit({ type: 'reconnected', connection });
  });
}

/**
 * Commands issued in one tick go out in one write: the socket is corked at the first command of a
 * tick and uncorked once the tick's work is done, so a burst of publishes or replies costs one
 * system call, and nothing waits for earlier replies.
 */
function writePerTick(client: Redis): void {
  const send = client.sendCommand.bind(client);
  let corked: Redis['stream'] | undefined;
  client.sendCommand = (command, stream) => {
    const socket = client.stream as Redis['stream'] | undefined;
    if (socket && socket !== corked && !socket.destroyed) {
      corked = socket;
      socket.cork();
      process.nextTick(() => {
        if (corked === socket) corked = undefined;
        socket.uncork();
      });
    }
    return send(command, stream);
  };
}

/**
 * Sends a command that tidies up after a stop (UNSUBSCRIBE, XGROUP DESTROY) and waits for it while
 * the connection is up. While it is down nothing waits: the command stays queued, to be sent after
 * the reconnect or rejected by close, so that neither a stop nor a close waits for a server that is
 * away. Never rejects: a tidy-up that fails leaves at most a key that expires.
 */
export function tidy(client: Redis, send: (client: Redis) => Promise<unknown>): Promise<void> {
  const up = client.status === 'ready';
  // Nobody waits for a tidy-up (see above), and what it leaves behind expires.
  const sent = send(client).then(
    () => undefined,
    () => undefined,
  );
  return up ? sent : Promise.resolve();
}

/** How long QUIT may wait for its answer before the connection is dropped. */
const QUIT_MS = 2000;

/**
 * Closes gracefully (QUIT flushes what was sent) and resolves once the connection has ended, in
 * whatever state it is: a server that does not answer QUIT within QUIT_MS is dropped, and one that
 * is down ends the connection at once.
 */
export function closeConnection(client: Redis): Promise<void> {
  return endConnection(client, true);
}

/** Drops the connection now: for blocking connections, whose pending command would delay QUIT. */
export function dropConnection(client: Redis): Promise<void> {
  return endConnection(client, false);
}

function endConnection(client: Redis, graceful: boolean): Promise<void> {
  ending.add(client);
  if (client.status === 'end') return Promise.resolve();
  if (isCluster(client)) return endCluster(client, graceful);
  return new Promise<void>((resolve) => {
    const quitting = graceful && client.status === 'ready';
    const timer = quitting ? setTimeout(() => drop(client), QUIT_MS) : undefined;
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    // QUIT that fails (the connection broke meanwhile) ends the connection all the same: drop it.
    if (quitting) client.quit().catch(() => drop(client));
    else if (!drop(client)) resolve();
  });
}

/** A cluster client ends once every node's connection has: QUIT while it is ready, else at once. */
function endCluster(client: Redis, graceful: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    // Past QUIT_MS the connections are dropped; the client says 'end' once they are.
    const timer = setTimeout(() => client.disconnect(), QUIT_MS);
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    if (graceful && client.status === 'ready') client.quit().catch(() => client.disconnect());
    else client.disconnect();
  });
}

/** The parts of an ioredis client that `drop` needs beyond its public API. */
interface ClientInternals {
  reconnectTimeout?: ReturnType<typeof setTimeout> | null;
  setStatus?: (status: 'end') => void;
  flushQueue?: (error: Error) => void;
}

/**
 * Ends the connection now. False when the client cannot be made to say so ('end' will not come).
 *
 * A client waiting between reconnect attempts has no socket: disconnect() only clears its timer and
 * it never ends, and the commands in its offline queue wait for their timeout (ioredis issues #1247,
 * #1830). That client is ended here as ioredis ends one whose socket closed after a disconnect: no
 * more reconnects, status `end`, and every queued command rejected with "Connection is closed.".
 */
function drop(client: Redis): boolean {
  if (client.status === 'end') return true;
  if (client.status !== 'reconnecting') {
    client.disconnect();
    // disconnect() only half-closes; a server that does not answer would keep the socket for
    // ioredis's disconnectTimeout (2 s). A drop does not wait for it.
    client.stream?.destroy();
    return true;
  }
  const internals = client as unknown as ClientInternals;
  if (typeof internals.setStatus !== 'function' || typeof internals.flushQueue !== 'function' || !('reconnectTimeout' in internals)) {
    // Another ioredis than the one this was written for: stop what can be stopped, do not wait.
    client.disconnect();
    return false;
  }
  if (internals.reconnectTimeout) clearTimeout(internals.reconnectTimeout);
  internals.reconnectTimeout = null;
  internals.setStatus('end');
  internals.flushQueue(new Error('Connection is closed.'));
  return true;
}
