// Endpoints given by hand, as nanocat takes them, for native peers and for peers that are not
// discovered. `connect` endpoints join the directory in the role a pattern needs, the first time it
// needs it; `bind` endpoints are bound at creation when the pattern they serve is given, or else by
// the first socket that binds.

import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from '@msg/core';
import { type Directory, GIVEN_ORIGIN, type PeerEndpoints } from './directory.js';

export type Pattern = 'reply' | 'publish' | 'survey' | 'bus';

export interface EndpointOptions {
  /** Exact endpoints (`tcp://127.0.0.1:5555`, `ipc:///tmp/a.sock`) to bind. */
  bind?: string[];
  /** Endpoints of peers elsewhere, listed in the directory in the role each pattern needs. */
  connect?: string[];
  /**
   * The pattern the `bind` endpoints serve: given, they are bound when the transport is created, so
   * peers that connect are there before its first message. Without it they go to the first socket
   * that binds for a pattern, when it is first used.
   */
  pattern?: Pattern;
}

const NONE: readonly string[] = Object.freeze([]);
/** The origin of a directory entry given by hand: never announced, it is not this node's. */
export const GIVEN = GIVEN_ORIGIN;

export class GivenEndpoints {
  readonly pattern: Pattern | undefined;
  readonly connect: readonly string[];
  readonly #directory: Directory;
  #bind: readonly string[];
  /** Services whose repliers already include the connect endpoints. */
  readonly #services = new Set<string>();
  readonly #roles = new Set<keyof PeerEndpoints>();

  constructor(directory: Directory, options: EndpointOptions = {}) {
    this.#directory = directory;
    this.#bind = options.bind?.length ? [...options.bind] : NONE;
    this.connect = [...(options.connect ?? [])];
    this.pattern = options.pattern;
  }

  /** The bind endpoints, for the first socket that asks; none for any later one. */
  takeBind(): readonly string[] {
    const taken = this.#bind;
    this.#bind = NONE;
    return taken;
  }

  /** Lists every connect endpoint as a replier of `service`. */
  asRepliers(service: string): void {
    if (this.connect.length === 0 || this.#services.has(service)) return;
    this.#services.add(service);
    for (const endpoint of this.connect) this.#directory.addService(service, endpoint, GIVEN);
  }

  /** Lists every connect endpoint as a native peer's socket in `role`: never waited for. */
  asPeers(role: keyof PeerEndpoints): void {
    if (this.connect.length === 0 || this.#roles.has(role)) return;
    this.#roles.add(role);
    for (const endpoint of this.connect) this.#directory.addPeer({ endpoints: { [role]: endpoint }, origin: GIVEN });
  }
}

/**
 * The `FAMILY+` URL for nanocat-style endpoints: the scheme and host (where the transport's other
 * sockets bind) come from the first endpoint; both lists travel as `bind` and `connect` parameters,
 * after `params`, and `pattern` when given.
 */
export function endpointsUrl(family: string, bind: string[], connect: string[] = [], params: Record<string, string> = {}, pattern?: Pattern): string {
  const first = bind[0] ?? connect[0];
  let base = `${family}+tcp://127.0.0.1`;
  if (first?.startsWith('tcp://')) {
    const host = first.slice('tcp://'.length).replace(/:[^:\]]*$/, '');
    base = `${family}+tcp://${host === '*' ? '0.0.0.0' : host}`;
  } else if (first?.startsWith('ipc://')) {
    base = `${family}+ipc://${dirname(resolve(first.slice('ipc://'.length)))}`;
  }
  const query = new URLSearchParams(params);
  for (const endpoint of bind) query.append('bind', endpoint);
  for (const endpoint of connect) query.append('connect', endpoint);
  if (pattern) query.set('pattern', pattern);
  return `${base}?${query}`;
}

/** The `pattern` URL parameter, checked. */
export function patternOf(value: string | null): Pattern | undefined {
  if (value === null) return undefined;
  if (value === 'reply' || value === 'publish' || value === 'survey' || value === 'bus') return value;
  throw new InvalidArgumentError(`pattern must be reply, publish, survey or bus, got ${JSON.stringify(value)}`);
}
