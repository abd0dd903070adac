// Endpoints given by hand, as nanocat takes them, for peers in other processes (ours or native). A
// transport does not know which pattern it will be used for until it is, so both lists are applied
// then: `bind` goes to the first socket that binds for a pattern, `connect` is listed in the
// directory in the role the pattern needs, the first time it needs it.

import { dirname, resolve } from 'node:path';
import type { Directory } from './directory.js';

export interface EndpointOptions {
  /**
   * Exact endpoints (`tcp://127.0.0.1:5555`, `ipc:///tmp/a.sock`) bound by the first socket that
   * binds: a replier's ROUTER on the first `reply()`, or this transport's publisher on the first
   * `publish()`, `survey()` or `join()`. Sockets that bind later get fresh endpoints as usual.
   */
  bind?: string[];
  /**
   * Endpoints of peers elsewhere, listed in the directory when a pattern first needs them: as a
   * replier of every service `request()` asks, or as a publisher for `subscribe()`, `respond()` and
   * `join()`.
   */
  connect?: string[];
}

const NONE: readonly string[] = Object.freeze([]);

export class Endpoints {
  readonly #directory: Directory;
  readonly #connect: readonly string[];
  #bind: readonly string[];
  /** Services whose repliers already include the connect endpoints. */
  readonly #services = new Set<string>();
  #publishers = false;

  constructor(directory: Directory, options: EndpointOptions = {}) {
    this.#directory = directory;
    this.#bind = options.bind?.length ? [...options.bind] : NONE;
    this.#connect = [...(options.connect ?? [])];
  }

  /** The bind endpoints, for the first socket that asks; nothing for any later one. */
  takeBind(): readonly string[] {
    const taken = this.#bind;
    this.#bind = NONE;
    return taken;
  }

  /** Lists every connect endpoint as a replier of `service`. */
  asRepliers(service: string): void {
    if (this.#connect.length === 0 || this.#services.has(service)) return;
    this.#services.add(service);
    for (const endpoint of this.#connect) this.#directory.addService(service, endpoint);
  }

  /**
   * Lists every connect endpoint as a publisher. A plain one: a subscribe does not wait for its
   * confirmation, since a native publisher never sends one (see Subscriptions).
   */
  asPublishers(): void {
    if (this.#publishers) return;
    this.#publishers = true;
    for (const endpoint of this.#connect) this.#directory.addPublisher(endpoint);
  }
}

/**
 * The `zmq+` URL for nanocat-style endpoints: the scheme and host (where this transport's other
 * sockets bind) come from the first endpoint; both lists travel as `bind` and `connect` parameters.
 */
export function endpointsUrl(bind: string[], connect: string[] = []): string {
  const first = bind[0] ?? connect[0];
  let base = 'zmq+tcp://127.0.0.1';
  if (first?.startsWith('tcp://')) {
    const host = first.slice('tcp://'.length).replace(/:[^:\]]*$/, '');
    base = `zmq+tcp://${host === '*' ? '0.0.0.0' : host}`;
  } else if (first?.startsWith('ipc://')) {
    const path = resolve(first.slice('ipc://'.length));
    base = `zmq+ipc://${dirname(path)}`;
  }
  const query = new URLSearchParams();
  for (const endpoint of bind) query.append('bind', endpoint);
  for (const endpoint of connect) query.append('connect', endpoint);
  return `${base}?${query}`;
}
