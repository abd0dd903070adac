// The name directory of the brokerless transports: which endpoints serve a service, and which peers
// (publishers, surveyors, bus members) a transport links to. Transports of one process that share a
// Directory find each other through it; a Discovery (discovery.ts) adds the peers of other processes
// and hosts to it, and removes them when they leave or go silent.

/** The endpoints of a peer's broadcast sockets; each is optional (a native peer may have one). */
export interface PeerEndpoints {
  /** Its publisher: subscribers connect here. */
  readonly publish?: string;
  /** Its surveyor, where the adapter has one of its own (nanomsg): respondents connect here. */
  readonly survey?: string;
  /** Its bus socket, where the adapter has one of its own (nanomsg): other members connect here. */
  readonly bus?: string;
}

export interface Peer {
  readonly endpoints: PeerEndpoints;
  /**
   * The id of a msg transport, which confirms subscriptions and proves its links; undefined for a
   * native peer, which does neither and is never waited for.
   */
  readonly id?: string;
  /** The node that announced it, for a peer of another process; undefined for this process's own. */
  readonly origin?: string;
}

export type DirectoryChange =
  | { readonly kind: 'service'; readonly name: string; readonly endpoint: string; readonly added: boolean }
  | { readonly kind: 'peer'; readonly peer: Peer; readonly added: boolean };

interface Served {
  readonly endpoint: string;
  readonly origin: string | undefined;
}

const NONE: readonly string[] = Object.freeze([]);

export class Directory {
  // Arrays replaced on change, never mutated, so a caller can pick from one without copying it.
  #services = new Map<string, readonly string[]>();
  #origins = new Map<string, Map<string, string | undefined>>();
  #peers: readonly Peer[] = [];
  #watchers = new Set<(change: DirectoryChange) => void>();
  /** Bumped on every change of services, so a requester re-reads them only when they changed. */
  version = 0;

  /** Endpoints of the repliers of `service`, in the order they were added. */
  services(service: string): readonly string[] {
    return this.#services.get(service) ?? NONE;
  }

  /** Every service with the endpoints that serve it and who announced each. */
  *entries(): Iterable<[string, Served]> {
    for (const [name, origins] of this.#origins) for (const [endpoint, origin] of origins) yield [name, { endpoint, origin }];
  }

  /** Lists `endpoint` as a replier of `service`; `origin` is the node that announced it, if remote. */
  addService(service: string, endpoint: string, origin?: string): void {
    const now = this.services(service);
    if (now.includes(endpoint)) return;
    this.#services.set(service, [...now, endpoint]);
    let origins = this.#origins.get(service);
    if (!origins) this.#origins.set(service, (origins = new Map()));
    origins.set(endpoint, origin);
    this.version++;
    this.#tell({ kind: 'service', name: service, endpoint, added: true });
  }

  removeService(service: string, endpoint: string): void {
    const now = this.services(service);
    if (!now.includes(endpoint)) return;
    const rest = now.filter((e) => e !== endpoint);
    const origins = this.#origins.get(service);
    origins?.delete(endpoint);
    if (rest.length === 0) {
      this.#services.delete(service);
      this.#origins.delete(service);
    } else this.#services.set(service, rest);
    this.version++;
    this.#tell({ kind: 'service', name: service, endpoint, added: false });
  }

  peers(): readonly Peer[] {
    return this.#peers;
  }

  /** Adds a peer (a transport of ours, a remote one, or a native program); returns its removal. */
  addPeer(peer: Peer): () => void {
    this.#peers = [...this.#peers, peer];
    this.#tell({ kind: 'peer', peer, added: true });
    return () => this.removePeer(peer);
  }

  removePeer(peer: Peer): void {
    if (!this.#peers.includes(peer)) return;
    this.#peers = this.#peers.filter((p) => p !== peer);
    this.#tell({ kind: 'peer', peer, added: false });
  }

  /** Calls `listener` on every change from now on; returns the function that stops it. */
  watch(listener: (change: DirectoryChange) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  #tell(change: DirectoryChange): void {
    for (const watcher of [...this.#watchers]) watcher(change);
  }
}

const shared = new Map<string, Directory>();

/** The process-wide directory called `name` of `family` (`zmq`, `nanomsg`): transports given it find each other. */
export function sharedDirectory(family: string, name = 'default'): Directory {
  const key = `${family}/${name}`;
  let directory = shared.get(key);
  if (!directory) {
    directory = new Directory();
    shared.set(key, directory);
  }
  return directory;
}

/**
 * Whether the directories agree, each taken as one node: every one lists, as learnt from the others,
 * exactly the transports and services the others serve themselves. Nodes that have all met and
 * heard each other's latest announcement.
 */
export function inSync(directories: readonly Directory[]): boolean {
  const ownPeers = directories.map((d) => d.peers().flatMap((p) => (p.id !== undefined && p.origin === undefined ? [p.id] : [])));
  const ownServices = directories.map((d) => [...d.entries()].flatMap(([name, s]) => (s.origin === undefined ? [`${name}\n${s.endpoint}`] : [])));
  return directories.every((d, i) => {
    const learntPeers = d.peers().flatMap((p) => (p.id !== undefined && p.origin !== undefined && p.origin !== GIVEN_ORIGIN ? [p.id] : []));
    const learntServices = [...d.entries()].flatMap(([name, s]) => (s.origin !== undefined && s.origin !== GIVEN_ORIGIN ? [`${name}\n${s.endpoint}`] : []));
    const otherPeers = ownPeers.filter((_, j) => j !== i).flat();
    const otherServices = ownServices.filter((_, j) => j !== i).flat();
    return sameSet(learntPeers, otherPeers) && sameSet(learntServices, otherServices);
  });
}

/** The origin of entries given by hand (see given.ts): neither this node's nor learnt. */
export const GIVEN_ORIGIN = 'given';

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((x) => set.has(x));
}
