// Discovery as the adapters take it: one option (or URL parameter) naming how nodes meet, and one
// Discovery per directory, started by the first transport that asks and closed with the last.

import { InvalidArgumentError, type MsgError, NoRespondersError, type RequestCall, type Transport } from '@msg/core';
import { isIPv4 } from 'node:net';
import { type BeaconOptions, udpBeacon } from './beacon.js';
import type { Directory } from './directory.js';
import { Discovery, type Meeting } from './discovery.js';
import { surveyMeeting } from './survey.js';

export interface DiscoveryConfig {
  /** `udp`: beacons on the local network. Or the endpoints of discovery nodes, which survey their members. */
  via: 'udp' | readonly string[];
  /** Where beacons go; the interface defaults to the transport's bind host when that is one address. */
  beacon?: BeaconOptions;
  /** The network's shared secret (see DiscoveryOptions.secret). */
  secret?: string | Uint8Array;
  intervalMs?: number;
  expiryMs?: number;
  onError?: (error: MsgError) => void;
}

interface Running {
  users: number;
  started: Promise<Discovery>;
}

const running = new WeakMap<Directory, Running>();

/** A transport's share of the discovery running on its directory. */
export interface Discovering {
  /** Milliseconds within which every live node announces itself: how long a request waits for a replier to be found. */
  readonly intervalMs: number;
  /** Stops discovery once every transport that asked has called it. */
  release(): Promise<void>;
}

/** Starts discovery on `directory` unless it runs already (the first transport's config is kept). */
export async function useDiscovery(directory: Directory, family: string, config: DiscoveryConfig, meetings: () => Meeting[]): Promise<Discovering> {
  let run = running.get(directory);
  if (!run) {
    const discovery = new Discovery(directory, { family, secret: config.secret, intervalMs: config.intervalMs, expiryMs: config.expiryMs, onError: config.onError, meetings: meetings() });
    const started = discovery.start().then(() => discovery);
    run = { users: 0, started };
    running.set(directory, run);
    started.catch(() => running.delete(directory));
  }
  run.users++;
  const mine = run;
  let discovery: Discovery;
  try {
    discovery = await mine.started;
  } catch (error) {
    mine.users--;
    throw error;
  }
  let released = false;
  return {
    intervalMs: discovery.intervalMs,
    async release() {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      if (running.get(directory) === mine) running.delete(directory);
      await discovery.close();
    },
  };
}

/**
 * Sends a request (`send`) now when its service is listed or discovery is off; else holds it until a
 * replier is found or one heartbeat passes (then NoRespondersError): a node that just started has
 * not heard everyone yet.
 */
export function sendWhenServed(directory: Directory, discovering: Discovering | undefined, call: RequestCall, send: () => void): void {
  const service = call.message.subject;
  if (!discovering || directory.services(service).length > 0) return send();
  const stop = () => {
    clearTimeout(timer);
    unwatch();
  };
  const timer = setTimeout(() => {
    stop();
    call.reject(new NoRespondersError(service));
  }, discovering.intervalMs);
  const unwatch = directory.watch((change) => {
    if (change.kind !== 'service' || !change.added || change.name !== service) return;
    stop();
    if (!call.done) send();
  });
  call.onCancel(stop);
}

/** The Discovery running on `directory`, if any: its node id and what it rejected. */
export async function discoveryOf(directory: Directory): Promise<Discovery | undefined> {
  return running.get(directory)?.started.catch(() => undefined); // one that failed to start is none: its error went to its transport
}

/**
 * How a transport binding on `base` (`tcp://HOST`, `ipc://...`) meets the others for `config`:
 * beacons out of HOST's interface (unless the config names one), or a member of the discovery nodes
 * through the transport that `join` creates, connected to their endpoints.
 */
export function meetingsFor(config: DiscoveryConfig, base: string, join: (endpoints: string[]) => Promise<Transport>): Meeting[] {
  if (config.via !== 'udp') {
    const endpoints = [...config.via];
    return [surveyMeeting(() => join(endpoints))];
  }
  const host = base.startsWith('tcp://') ? base.slice('tcp://'.length).replace(/(:\d+)?\/?$/, '') : undefined;
  const local = config.beacon?.interface ?? (host && isIPv4(host) && host !== '0.0.0.0' ? host : undefined);
  return [udpBeacon({ ...config.beacon, interface: local })];
}

/**
 * The `discovery` URL parameters: `discovery=udp` or `discovery=EP,EP` (discovery nodes), with
 * `secret=`, `beacon=ADDRESS:PORT`, `beaconInterface=IP`, `interval=MS`, `expiry=MS`.
 */
export function discoveryFromUrl(params: URLSearchParams): DiscoveryConfig | undefined {
  const via = params.get('discovery');
  if (via === null || via === '' || via === 'off') return undefined;
  const number = (name: string) => {
    const value = params.get(name);
    if (value === null) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number of milliseconds, got ${JSON.stringify(value)}`);
    return n;
  };
  const beacon = params.get('beacon');
  const [address, port] = beacon?.split(':') ?? [];
  const config: DiscoveryConfig = {
    via: via === 'udp' ? 'udp' : via.split(',').filter((e) => e.length > 0),
    secret: params.get('secret') ?? undefined,
    intervalMs: number('interval'),
    expiryMs: number('expiry'),
    beacon: {
      address: address || undefined,
      port: port ? Number(port) : undefined,
      interface: params.get('beaconInterface') ?? undefined,
    },
  };
  return config;
}
