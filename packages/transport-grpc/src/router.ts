// The hosting node's routing tables. Local registrations (the host's own transport) and remote ones
// (clients on a Stream) look alike here: a function to deliver to, or a function to ask.

import { type Message, NoRespondersError, hasWildcard, matchSubject } from '@msg/core';

/** Sends a request or survey question to one replier or respondent and resolves to its answer. */
export type Ask = (message: Message, signal: AbortSignal) => Promise<Message>;

export interface Subscriber {
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly deliver: (message: Message) => void;
}

export interface Member {
  readonly deliver: (message: Message) => void;
}

type Remove = () => void;

/** Members of one service, asked in turn. */
class Turns<T> {
  readonly members: T[] = [];
  #next = 0;
  pick(): T | undefined {
    if (this.members.length === 0) return undefined;
    this.#next = (this.#next + 1) % this.members.length;
    return this.members[this.#next];
  }
}

function addTo<K, V>(map: Map<K, V[]>, key: K, value: V): Remove {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  list.push(value);
  return () => {
    const at = list.indexOf(value);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0 && map.get(key) === list) map.delete(key);
  };
}

export class Router {
  #exact = new Map<string, Subscriber[]>();
  #wildcard = new Set<Subscriber>();
  #repliers = new Map<string, Turns<Ask>>();
  #respondents = new Map<string, Ask[]>();
  #groups = new Map<string, Member[]>();

  subscribe(subscriber: Subscriber): Remove {
    if (!hasWildcard(subscriber.pattern)) return addTo(this.#exact, subscriber.pattern, subscriber);
    this.#wildcard.add(subscriber);
    return () => void this.#wildcard.delete(subscriber);
  }

  serve(service: string, ask: Ask): Remove {
    let turns = this.#repliers.get(service);
    if (!turns) this.#repliers.set(service, (turns = new Turns()));
    const members = turns.members;
    members.push(ask);
    return () => {
      const at = members.indexOf(ask);
      if (at >= 0) members.splice(at, 1);
      if (members.length === 0 && this.#repliers.get(service) === turns) this.#repliers.delete(service);
    };
  }

  respond(topic: string, ask: Ask): Remove {
    return addTo(this.#respondents, topic, ask);
  }

  join(group: string, member: Member): Remove {
    return addTo(this.#groups, group, member);
  }

  /** Delivers to every matching subscriber, and to one member of each queue group. */
  publish(message: Message): void {
    let groups: Map<string, Subscriber[]> | undefined;
    const consider = (subscriber: Subscriber) => {
      if (subscriber.queue === undefined) return subscriber.deliver(message);
      groups ??= new Map();
      const key = `${subscriber.pattern}\u0000${subscriber.queue}`;
      const members = groups.get(key);
      if (members) members.push(subscriber);
      else groups.set(key, [subscriber]);
    };
    for (const subscriber of this.#exact.get(message.subject) ?? []) consider(subscriber);
    for (const subscriber of this.#wildcard) if (matchSubject(subscriber.pattern, message.subject)) consider(subscriber);
    for (const members of groups?.values() ?? []) members[Math.floor(Math.random() * members.length)]?.deliver(message);
  }

  /** Asks one replier of the subject, in turn; NoRespondersError when nobody serves it. */
  request(message: Message, signal: AbortSignal): Promise<Message> {
    const ask = this.#repliers.get(message.subject)?.pick();
    if (!ask) return Promise.reject(new NoRespondersError(message.subject));
    return ask(message, signal);
  }

  /** Asks every respondent; each answer goes to `deliver` until `signal` aborts. */
  survey(question: Message, signal: AbortSignal, deliver: (answer: Message) => void): void {
    for (const ask of this.#respondents.get(question.subject) ?? []) {
      ask(question, signal).then(
        (answer) => signal.aborted || deliver(answer),
        () => undefined, // a respondent that went away gives no answer
      );
    }
  }

  /** Sends to every member of the group but `from`. */
  send(group: string, from: Member, message: Message): void {
    for (const member of this.#groups.get(group) ?? []) if (member !== from) member.deliver(message);
  }
}
