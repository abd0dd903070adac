// The name directory: ZeroMQ has no broker to ask who serves what, so transports that should find each
// other share a Directory. It maps each service to the endpoints of its repliers and lists the
// publishers every subscriber connects to. It lives in one process; peers elsewhere are added by hand.

export interface Publisher {
  readonly endpoint: string;
  /**
   * Whether it confirms subscriptions (every msg transport does): a subscribe waits for that
   * confirmation from each such publisher, and cannot wait for a plain libzmq publisher.
   */
  readonly confirms: boolean;
}

export type DirectoryChange =
  | { kind: 'service'; name: string; endpoint: string; added: boolean }
  | { kind: 'publisher'; publisher: Publisher; added: boolean };

const NONE: readonly string[] = Object.freeze([]);

export class Directory {
  // Arrays replaced on change, never mutated, so a request can pick from one without copying it.
  #services = new Map<string, readonly string[]>();
  #publishers: readonly Publisher[] = [];
  #watchers = new Set<(change: DirectoryChange) => void>();

  /** Endpoints of the repliers of `service`, in the order they were added. */
  services(service: string): readonly string[] {
    return this.#services.get(service) ?? NONE;
  }

  publishers(): readonly Publisher[] {
    return this.#publishers;
  }

  addService(service: string, endpoint: string): void {
    const now = this.services(service);
    if (now.includes(endpoint)) return;
    this.#services.set(service, [...now, endpoint]);
    this.#tell({ kind: 'service', name: service, endpoint, added: true });
  }

  removeService(service: string, endpoint: string): void {
    const now = this.services(service);
    if (!now.includes(endpoint)) return;
    const rest = now.filter((e) => e !== endpoint);
    if (rest.length === 0) this.#services.delete(service);
    else this.#services.set(service, rest);
    this.#tell({ kind: 'service', name: service, endpoint, added: false });
  }

  /** Adds a publisher; a plain libzmq one (the default) is not waited for when subscribing. */
  addPublisher(endpoint: string, options: { confirms?: boolean } = {}): void {
    if (this.#publishers.some((p) => p.endpoint === endpoint)) return;
    const publisher: Publisher = { endpoint, confirms: options.confirms ?? false };
    this.#publishers = [...this.#publishers, publisher];
    this.#tell({ kind: 'publisher', publisher, added: true });
  }

  removePublisher(endpoint: string): void {
    const publisher = this.#publishers.find((p) => p.endpoint === endpoint);
    if (!publisher) return;
    this.#publishers = this.#publishers.filter((p) => p !== publisher);
    this.#tell({ kind: 'publisher', publisher, added: false });
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

/** The process-wide directory called `name`: transports given the same name find each other. */
export function sharedDirectory(name = 'default'): Directory {
  let directory = shared.get(name);
  if (!directory) {
    directory = new Directory();
    shared.set(name, directory);
  }
  return directory;
}
