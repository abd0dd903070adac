// What a workload needs from a backend, so that one workload code path runs on every adapter (through
// the core API), on the raw client libraries (the baselines) and on plain TCP (the loopback limit).
import type { Transport } from '@msg/core';

/** One connection to a backend, or one bound endpoint that peers connect to. */
export interface Link {
  /** Where peers connect, when this link was opened with `bind`. */
  readonly address?: string;
  /** Resolves when the message is handed over; a returned promise is backpressure to respect. */
  publish(topic: string, data: Uint8Array): Promise<void> | void;
  /** Resolves once messages published from now on reach `onMessage`. */
  subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void>;
  /** Echoes every request on `service` back to its sender, `workers` repliers sharing the load. */
  serve(service: string, workers: number): Promise<void>;
  request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** The core Transport behind an adapter link: survey and bus run only on these. */
  readonly transport?: Transport;
  close(): Promise<void>;
}

export interface Driver {
  open(mode: 'bind' | 'connect', address: string | undefined, options: LinkOptions): Promise<Link>;
}

export interface LinkOptions {
  /** Unique per run, so that a shared broker never mixes two runs (topic, queue and service names). */
  runId: string;
  size: number;
  /** Instrument an adapter's transport with @msg/otel. */
  otel?: boolean;
  /**
   * Links of one run opened with the same group in one process (survey and bus members) share what
   * a brokerless adapter needs to find its peers.
   */
  group?: string;
}

/**
 * `raw`: an adapter's own client library, the floor of what the adapter costs. `peer`: another
 * framework over the same broker, what a user would pick instead of msg.
 */
export type DriverKind = 'adapter' | 'raw' | 'peer' | 'tcp';

export interface DriverInfo {
  name: string;
  kind: DriverKind;
  /** For a raw baseline: the adapter it is the baseline of. */
  baselineOf?: string;
  /** For a peer: the adapter of the same broker it is shown beside and compared with. */
  peerOf?: string;
  /** Runs request/reply workloads only (echo, stream): the others skip it, saying so. */
  requestReplyOnly?: boolean;
  /** Roles must share one process (in-process transport). */
  sameProcess?: boolean;
  /** The server that must answer for this driver to run. */
  server?: { host: string; port: number };
  /** Needs no server: part of the default run. */
  embedded: boolean;
  /** The delivery semantics of this profile, shown beside every result. */
  semantics: string;
  /** Why it cannot run, or undefined when it can (package built, library loads). */
  load(): Promise<Driver>;
}
