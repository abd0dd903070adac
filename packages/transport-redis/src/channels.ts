// The transport's one subscriber connection, shared by everything that listens on pub/sub: topics,
// the inbox, survey topics, bus groups. Redis is told once per channel or glob; each listener here
// gets every message of it.

import type { Redis } from 'ioredis';
import { tidy } from './connection.js';

export type Listener = (payload: Buffer, channel: string) => void;
export type Unlisten = () => Promise<void>;

interface Entry {
  listeners: Set<Listener>;
  /** Settles once Redis confirmed the SUBSCRIBE or PSUBSCRIBE. */
  ready: Promise<unknown>;
}

export class Channels {
  readonly #client: Redis;
  readonly #exact = new Map<string, Entry>();
  readonly #globs = new Map<string, Entry>();
  readonly #sharded = new Map<string, Entry>();

  constructor(client: Redis) {
    this.#client = client;
    client.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      const name = channel.toString();
      this.#dispatch(this.#exact.get(name), payload, name);
    });
    client.on('pmessageBuffer', (glob: Buffer, channel: Buffer, payload: Buffer) => {
      this.#dispatch(this.#globs.get(glob.toString()), payload, channel.toString());
    });
    client.on('smessageBuffer', (channel: Buffer, payload: Buffer) => {
      const name = channel.toString();
      this.#dispatch(this.#sharded.get(name), payload, name);
    });
  }

  /** Calls `listener` for each message on `channel`; resolves once Redis delivers them. */
  listen(channel: string, listener: Listener): Promise<Unlisten> {
    return this.#add(this.#exact, channel, listener, 'exact');
  }

  /** Like listen, for every channel matching a Redis glob. */
  listenGlob(glob: string, listener: Listener): Promise<Unlisten> {
    return this.#add(this.#globs, glob, listener, 'glob');
  }

  /** Like listen, on sharded pub/sub (SSUBSCRIBE, Redis 7): the channel lives on its slot's node. */
  listenSharded(channel: string, listener: Listener): Promise<Unlisten> {
    return this.#add(this.#sharded, channel, listener, 'sharded');
  }

  /** Calls `onLost` each time the connection drops; Redis forgets a dropped client's messages. */
  onLost(onLost: () => void): void {
    this.#client.on('close', onLost);
  }

  async #add(map: Map<string, Entry>, name: string, listener: Listener, kind: 'exact' | 'glob' | 'sharded'): Promise<Unlisten> {
    let entry = map.get(name);
    if (!entry) {
      const ready = kind === 'glob' ? this.#client.psubscribe(name) : kind === 'sharded' ? this.#client.ssubscribe(name) : this.#client.subscribe(name);
      entry = { listeners: new Set(), ready };
      map.set(name, entry);
      ready.catch(() => {
        if (map.get(name) === entry) map.delete(name);
      });
    }
    entry.listeners.add(listener);
    await entry.ready;
    const owner = entry;
    return async () => {
      owner.listeners.delete(listener);
      if (owner.listeners.size > 0 || map.get(name) !== owner) return;
      map.delete(name);
      await tidy(this.#client, (client) => (kind === 'glob' ? client.punsubscribe(name) : kind === 'sharded' ? client.sunsubscribe(name) : client.unsubscribe(name)));
    };
  }

  #dispatch(entry: Entry | undefined, payload: Buffer, channel: string): void {
    if (!entry) return;
    for (const listener of entry.listeners) listener(payload, channel);
  }
}
