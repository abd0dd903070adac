// Proof of the links between the transports of one directory in this process (see mesh.ts): which
// receiving sockets (ears) have heard which transport's probe. Peers of other processes and native
// peers are never waited for: their probes, if any, are not ours to wait on.

import type { Directory } from '@msg/discovery';

export type LinkKind = 'publish' | 'survey' | 'bus';

/** A receiving socket of ours, and the transports whose probe it has heard. */
export interface Ear {
  readonly kind: LinkKind;
  readonly owner: string;
  readonly heard: Set<string>;
}

export class Links {
  readonly #directory: Directory;
  readonly #ears = new Set<Ear>();
  /** Each transport's way to start probing, by its id: called when an ear may be waiting for it. */
  readonly probers = new Map<string, () => void>();
  readonly #changed = new Set<() => void>();

  constructor(directory: Directory) {
    this.#directory = directory;
    directory.watch(() => this.notify());
  }

  addEar(ear: Ear): void {
    this.#ears.add(ear);
    for (const probe of this.probers.values()) probe();
  }

  removeEar(ear: Ear): void {
    if (this.#ears.delete(ear)) this.notify();
  }

  ears(): Iterable<Ear> {
    return this.#ears;
  }

  /** Whether `ear` has heard every transport of this process it should hear. */
  hasHeardAll(ear: Ear): boolean {
    for (const peer of this.#directory.peers()) {
      if (peer.id === undefined || peer.origin !== undefined || ear.heard.has(peer.id)) continue;
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

const links = new WeakMap<Directory, Links>();

export function linksOf(directory: Directory): Links {
  let found = links.get(directory);
  if (!found) links.set(directory, (found = new Links(directory)));
  return found;
}
