// The gRPC transport: one node hosts (a gRPC server that routes every pattern), the others connect
// to it. Both are full transports.

import {
  type Capabilities,
  InvalidArgumentError,
  type Transport,
  type TransportFactory,
  createTransport,
  registerTransport,
} from '@msg/core';
import { ClientBackend } from './client.js';
import { HostBackend } from './host.js';
import { DEFAULT_MAX_PAYLOAD, type GrpcOptions } from './options.js';

export type { GrpcOptions, GrpcTlsOptions } from './options.js';
export { protoPath } from './proto.js';

/** What the transport promises with the default `maxPayload`. */
export const grpcCapabilities: Capabilities = capabilitiesFor(DEFAULT_MAX_PAYLOAD);

function capabilitiesFor(maxPayload: number): Capabilities {
  return {
    patterns: ['request', 'publish', 'survey', 'bus'],
    // The host keeps no messages: what is routed to a client whose stream is down (or whose queue
    // at the host is full) is lost, and nothing is ever sent twice.
    delivery: 'at-most-once',
    // One publisher's frames travel one stream to the host and one stream to each subscriber.
    ordering: 'per-publisher',
    durable: false,
    replay: false,
    maxPayload,
    wildcards: true,
    headers: true,
    queueGroups: true,
    deadLetter: false,
    timing: { surveyDeadlineMs: 300, settleMs: 50 },
  };
}

/** A transport that hosts (`listen`) or connects to a host (`connect`). */
export interface GrpcTransport extends Transport {
  /** The host's bound `host:port` (the real port when listening on port 0); the target for clients. */
  readonly address: string;
}

/** Hosts when `options.listen` is set, else connects to `options.connect`. */
export async function createGrpcTransport(options: GrpcOptions): Promise<GrpcTransport> {
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (!(Number.isInteger(maxPayload) && maxPayload > 0)) throw new InvalidArgumentError(`maxPayload must be a positive integer, got ${maxPayload}`);
  const capabilities = maxPayload === DEFAULT_MAX_PAYLOAD ? grpcCapabilities : capabilitiesFor(maxPayload);
  if (options.listen !== undefined) {
    const host = await HostBackend.start(options.listen, capabilities, options);
    return Object.assign(createTransport(host), { address: host.address });
  }
  if (options.connect === undefined) throw new InvalidArgumentError('set `listen` to host or `connect` to join a host, e.g. { connect: "grpc://127.0.0.1:50051" }');
  const target = options.connect.replace(/^grpc:\/\//, '');
  const client = await ClientBackend.connect(target, capabilities, options);
  return Object.assign(createTransport(client), { address: target });
}

/** `grpc://host:port` connects to a host; `grpc+listen://host:port` hosts (port 0: any free port). */
export const grpcTransport: TransportFactory<GrpcOptions> = {
  schemes: ['grpc', 'grpc+listen'],
  connect: (url, options = {}) =>
    url.protocol === 'grpc+listen:' ? createGrpcTransport({ ...options, listen: url.host }) : createGrpcTransport({ ...options, connect: url.host }),
};

registerTransport(grpcTransport);
