// Names to endpoints, so applications address services and topics by name while nanomsg connects
// endpoints. A directory is an object in one process: transports given the same directory find each
// other; a peer in another process (a native program, or msg in another process) is added by hand with
// its endpoints.

/** The endpoints a peer's broadcast sockets listen on; each is optional for a native peer. */
export interface PeerEndpoints {
  /** Its PUB socket: our SUB sockets connect here. */
  readonly publish?: string;
  /** Its SURVEYOR socket: our RESPONDENT sockets connect here. */
  readonly survey?: string;
  /** Its BUS socket: our BUS sockets connect here. */
  readonly bus?: string;
}

export type LinkKind = 'publish' | 'survey' | 'bus';

/** A receiving socket of ours, and the transports whose probe it has heard (see mesh.ts). */
export interface Ear {
  readonly kind: LinkKind;
  readonly owner: string;
  readonly heard: Set<string>;
}

/** One member of the directory: a transport of ours (with an id and events) or a native peer. */
export interface Peer {
  readonly endpoints: PeerEndpoints;
  /** Set for our own transports, which probe their links; undefined for native peers. */
  readonly id?: string;
  readonly joined?: (peer: Peer) => void;
  readonly left?: (peer: Peer) => void;
  /** Called when some ear may now be waiting for this transport's probe. */
  readonly probe?: () => void;
}

export class Directory {
  #repliers = new Map<string, Set<string>>();
  #peers = new Set<Peer>();
  #ears = new Set<Ear>();
  #changed = new Set<() => void>();
  /** Bumped on every change of repliers, so a requester re-reads them only when they changed. */
  version = 0;

  /** Announces that `endpoint` (a REP socket) serves `service`. */
  addReplier(service: string, endpoint: string): void {
    let endpoints = this.#repliers.get(service);
    if (!endpoints) this.#repliers.set(service, (endpoints = new Set()));
    endpoints.add(endpoint);
    this.version++;
  }

  removeReplier(service: string, endpoint: string): void {
    const endpoints = this.#repliers.get(service);
    if (!endpoints?.delete(endpoint)) return;
    if (endpoints.size === 0) this.#repliers.delete(service);
    this.version++;
  }

  repliers(service: string): ReadonlySet<string> | undefined {
    return this.#repliers.get(service);
  }

  /** Adds a peer that is not a transport of this directory, e.g. a native program; returns its removal. */
  addPeer(endpoints: PeerEndpoints): () => void {
    const peer: Peer = { endpoints };
    this.join(peer);
    return () => this.leave(peer);
  }

  peers(): Iterable<Peer> {
    return this.#peers;
  }

  join(peer: Peer): void {
    for (const other of this.#peers) other.joined?.(peer);
    this.#peers.add(peer);
    this.notify();
  }

  leave(peer: Peer): void {
    if (!this.#peers.delete(peer)) return;
    for (const other of this.#peers) other.left?.(peer);
    this.notify();
  }

  addEar(ear: Ear): void {
    this.#ears.add(ear);
    for (const peer of this.#peers) peer.probe?.();
  }

  removeEar(ear: Ear): void {
    if (this.#ears.delete(ear)) this.notify();
  }

  ears(): Iterable<Ear> {
    return this.#ears;
  }

  /** Whether `ear` has heard every transport of ours it should hear. */
  hasHeardAll(ear: Ear): boolean {
    for (const peer of this.#peers) {
      if (peer.id === undefined || ear.heard.has(peer.id)) continue;
      if (ear.kind === 'bus' && peer.id === ear.owner) continue;
      return false;
    }
    return true;
  }

  /** Whether every ear that should hear transport `id` has heard it. */
  isHeardByAll(id: string): boolean {
    for (const ear of this.#ears) if (!ear.heard.has(id) && !(ear.kind === 'bus' && ear.owner === id)) return false;
    return true;
  }

  /** Registers a check to run after every change; returns its removal. */
  watch(check: () => void): () => void {
    this.#changed.add(check);
    return () => this.#changed.delete(check);
  }

  notify(): void {
    for (const check of [...this.#changed]) check();
  }
}

/** The directory of transports that are given none. */
export const defaultDirectory = new Directory();
