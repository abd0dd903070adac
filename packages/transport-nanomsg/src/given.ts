// Endpoints given by hand, as nanocat takes them, for peers in other processes (ours or native). A
// transport does not know which pattern it will be used for until it is, so both lists are applied
// then: `bind` goes to the first socket that binds for a pattern, `connect` joins the directory in
// the role the pattern needs, the first time it needs it.

import { dirname, resolve } from 'node:path';
import type { Directory, LinkKind } from './directory.js';
import type { NanoSocket } from './socket.js';

export interface EndpointOptions {
  /**
   * Exact endpoints (`tcp://127.0.0.1:5555`, `ipc:///tmp/a.ipc`) bound by the first socket that
   * binds: the REP socket of the first `reply()`, or this transport's PUB, SURVEYOR or BUS socket on
   * the first `publish()`, `survey()` or `join()`. Sockets that bind later get fresh endpoints.
   */
  bind?: string[];
  /**
   * Endpoints of peers elsewhere, added to the directory when a pattern first needs them: as a
   * replier of every service `request()` asks, a publisher for `subscribe()`, a surveyor for
   * `respond()`, a bus member for `join()`; `survey()` connects its SURVEYOR to them (respondents).
   */
  connect?: string[];
}

const NONE: readonly string[] = Object.freeze([]);

export class GivenEndpoints {
  readonly #directory: Directory;
  readonly #connect: readonly string[];
  #bind: readonly string[];
  /** Services whose repliers already include the connect endpoints. */
  readonly #services = new Set<string>();
  readonly #roles = new Set<LinkKind>();

  constructor(directory: Directory, options: EndpointOptions = {}) {
    this.#directory = directory;
    this.#bind = options.bind?.length ? [...options.bind] : NONE;
    this.#connect = [...(options.connect ?? [])];
  }

  /** The bind endpoints, for the first socket that asks; none for any later one. */
  takeBind(): readonly string[] {
    const taken = this.#bind;
    this.#bind = NONE;
    return taken;
  }

  /** Adds every connect endpoint as a replier of `service`. */
  asRepliers(service: string): void {
    if (this.#connect.length === 0 || this.#services.has(service)) return;
    this.#services.add(service);
    for (const endpoint of this.#connect) this.#directory.addReplier(service, endpoint);
  }

  /**
   * Connects `socket` to every connect endpoint, for a pattern whose peers bind but are not in the
   * directory: a surveyor's respondents (nanocat --respondent --bind). Idempotent.
   */
  connectTo(socket: NanoSocket): void {
    for (const endpoint of this.#connect) socket.connect(endpoint);
  }

  /** Adds every connect endpoint as a native peer's PUB, SURVEYOR or BUS socket: never probed. */
  asPeers(role: LinkKind): void {
    if (this.#connect.length === 0 || this.#roles.has(role)) return;
    this.#roles.add(role);
    for (const endpoint of this.#connect) this.#directory.addPeer({ [role]: endpoint });
  }
}

/**
 * The `nanomsg+` URL for nanocat-style endpoints, on the plain wire as nanocat sends (bare payloads,
 * no headers): the scheme and host (where the transport's other sockets listen) come from the first
 * endpoint; both lists travel as `bind` and `connect` parameters.
 */
export function endpointsUrl(bind: string[], connect: string[] = []): string {
  const first = bind[0] ?? connect[0];
  let base = 'nanomsg+tcp://127.0.0.1';
  if (first?.startsWith('tcp://')) {
    const host = first.slice('tcp://'.length).replace(/:[^:\]]*$/, '');
    base = `nanomsg+tcp://${host === '*' ? '0.0.0.0' : host}`;
  } else if (first?.startsWith('ipc://')) {
    base = `nanomsg+ipc://${dirname(resolve(first.slice('ipc://'.length)))}`;
  }
  const query = new URLSearchParams({ wire: 'plain' });
  for (const endpoint of bind) query.append('bind', endpoint);
  for (const endpoint of connect) query.append('connect', endpoint);
  return `${base}?${query}`;
}
