// A hub is one in-process "network": every transport connected to the same hub name sees the others.
// Routing tables only; the rules of each pattern live in the core.

import type { Deliver, Serve } from '@msg/core';
import { matchSubject, hasWildcard } from '@msg/core';

export interface Subscriber {
  readonly pattern: string;
  readonly deliver: Deliver;
  readonly queue: string | undefined;
}

export interface BusEndpoint {
  readonly deliver: Deliver;
}

/** Members of one service or queue group, served in turn. */
export class RoundRobin<T> {
  readonly members: T[] = [];
  #next = 0;
  add(member: T): void {
    this.members.push(member);
  }
  remove(member: T): void {
    const at = this.members.indexOf(member);
    if (at >= 0) this.members.splice(at, 1);
  }
  pick(): T | undefined {
    if (this.members.length === 0) return undefined;
    this.#next = (this.#next + 1) % this.members.length;
    return this.members[this.#next];
  }
}

export class Hub {
  readonly exact = new Map<string, Set<Subscriber>>();
  readonly wildcard = new Set<Subscriber>();
  readonly repliers = new Map<string, RoundRobin<Serve>>();
  readonly respondents = new Map<string, Set<Serve>>();
  readonly buses = new Map<string, Set<BusEndpoint>>();

  addSubscriber(subscriber: Subscriber): void {
    if (hasWildcard(subscriber.pattern)) this.wildcard.add(subscriber);
    else getOrCreate(this.exact, subscriber.pattern, () => new Set()).add(subscriber);
  }

  removeSubscriber(subscriber: Subscriber): void {
    this.wildcard.delete(subscriber);
    const set = this.exact.get(subscriber.pattern);
    set?.delete(subscriber);
    if (set?.size === 0) this.exact.delete(subscriber.pattern);
  }

  /** Every subscriber whose pattern matches, with one member picked per queue group. */
  subscribersOf(subject: string): Subscriber[] {
    const plain: Subscriber[] = [];
    const groups = new Map<string, Subscriber[]>();
    const consider = (subscriber: Subscriber) => {
      if (subscriber.queue === undefined) plain.push(subscriber);
      else getOrCreate(groups, `${subscriber.pattern}\u0000${subscriber.queue}`, () => []).push(subscriber);
    };
    for (const subscriber of this.exact.get(subject) ?? []) consider(subscriber);
    for (const subscriber of this.wildcard) if (matchSubject(subscriber.pattern, subject)) consider(subscriber);
    for (const members of groups.values()) plain.push(members[Math.floor(Math.random() * members.length)] as Subscriber);
    return plain;
  }
}

export function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

const hubs = new Map<string, Hub>();

export function hubNamed(name: string): Hub {
  return getOrCreate(hubs, name, () => new Hub());
}
