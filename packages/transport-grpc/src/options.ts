// What a user can set, and how it becomes grpc-js channel and server settings.

import { type ChannelOptions, ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { InvalidArgumentError } from '@msg/core';

export interface GrpcTlsOptions {
  /** PEM certificate chain the host presents. Host only. */
  cert?: string | Buffer;
  /** PEM private key of `cert`. Host only. */
  key?: string | Buffer;
  /** PEM certificates the client trusts (e.g. a self-signed CA). Client; default: the system's roots. */
  ca?: string | Buffer;
  /** Client: the name the host's certificate must carry, when it differs from the address's host. */
  serverName?: string;
}

export interface GrpcOptions {
  /** Host: the address to listen on, e.g. `127.0.0.1:0` (port 0 picks a free port; see `address`). */
  listen?: string;
  /** Client: the host to connect to, `host:port` or `grpc://host:port`. */
  connect?: string;
  /** Largest `data` of a message, in bytes. Default 4 MiB. */
  maxPayload?: number;
  /** TLS for the host (cert and key) or the client (ca). Without it, plaintext HTTP/2. */
  tls?: GrpcTlsOptions;
  /** HTTP/2 pings that detect a dead peer on an idle connection. */
  keepalive?: { timeMs?: number; timeoutMs?: number };
  /** Client: requests awaiting their reply on the stream at once; more wait for a place. Default 1024. */
  window?: number;
  /** Client: replies to the requests this client serves leave in the order the requests arrived. */
  ordered?: boolean;
  /**
   * Frames queued for one stream. A client's sends wait past it; the host drops what a client
   * does not read past it (at-most-once), so one stuck client cannot grow the host. Default 10,000.
   */
  maxQueued?: number;
  /** Client: send each request as its own unary call (with a gRPC deadline) instead of on the stream. */
  unary?: boolean;
  /** Client: how long connecting waits for the host before failing with ConnectionError. Default 5000 ms. */
  connectTimeout?: number;
  /**
   * Client: how long `close` waits for the host to read what was sent and end its side of the
   * stream (and leaving a registration for the host's Ack). Past it, what the host did not read is
   * lost and the connection is closed anyway. Default 2000 ms.
   */
  closeTimeout?: number;
}

export const DEFAULT_MAX_PAYLOAD = 4 * 1024 * 1024;
/** Room beside `maxPayload` bytes of data for the id, subject, headers and the frame's own fields. */
export const FRAME_HEADROOM = 64 * 1024;
const DEFAULT_KEEPALIVE_MS = 30_000;
const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;

/** The gRPC message limit for a payload limit. */
export function messageLimit(maxPayload: number): number {
  return maxPayload + FRAME_HEADROOM;
}

function common(options: GrpcOptions): ChannelOptions {
  const limit = messageLimit(options.maxPayload ?? DEFAULT_MAX_PAYLOAD);
  return {
    'grpc.max_send_message_length': limit,
    'grpc.max_receive_message_length': limit,
    'grpc.keepalive_time_ms': options.keepalive?.timeMs ?? DEFAULT_KEEPALIVE_MS,
    'grpc.keepalive_timeout_ms': options.keepalive?.timeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
  };
}

export function clientChannelOptions(options: GrpcOptions): ChannelOptions {
  return {
    ...common(options),
    // Each transport owns its connection, as a separate process would: closing it releases the
    // socket, and one transport's host going away is seen by it alone.
    'grpc.use_local_subchannel_pool': 1,
    // Come back soon after the host does; grpc-js backs off exponentially up to the maximum.
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 2000,
    ...(options.tls?.serverName ? { 'grpc.ssl_target_name_override': options.tls.serverName } : {}),
  };
}

export function serverOptions(options: GrpcOptions): ChannelOptions {
  return common(options);
}

const pem = (value: string | Buffer | undefined) => (value === undefined ? null : Buffer.from(value));

export function clientCredentials(options: GrpcOptions): ChannelCredentials {
  return options.tls ? ChannelCredentials.createSsl(pem(options.tls.ca)) : ChannelCredentials.createInsecure();
}

export function serverCredentials(options: GrpcOptions): ServerCredentials {
  const tls = options.tls;
  if (!tls) return ServerCredentials.createInsecure();
  if (tls.cert === undefined || tls.key === undefined) throw new InvalidArgumentError('tls.cert and tls.key are needed to host with TLS');
  return ServerCredentials.createSsl(pem(tls.ca), [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }]);
}
