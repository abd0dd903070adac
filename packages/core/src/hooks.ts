// The one extension point of a transport: hooks that see every message go out and come in, and
// wrap the handlers that process them, so that tracing and metrics need no code in any adapter.
// With no hook installed a transport pays one check per operation and allocates nothing for them.

import type { Headers, Message } from './message.js';
import type { Pattern } from './transport.js';

export interface HookEvent {
  /** `Transport.name` of the transport doing it, e.g. `nats` or `mqtt+qos1`. */
  readonly transport: string;
  /**
   * `request` for a request and the replier serving it, `publish` for a publish and the
   * subscriptions taking it, `survey` for a question and its respondents, `bus` for a member's send
   * and the members receiving it.
   */
  readonly pattern: Pattern;
  /** The message going out or coming in: its subject, id, data (and so its size) and headers. */
  readonly message: Message;
}

export interface DeliverEvent extends HookEvent {
  /** The subscription's pattern (it may hold wildcards) or the bus group that took the message. */
  readonly subscription: string;
  /** A handler consumes the message (its work then goes through `process`), not an iterator. */
  readonly handled: boolean;
}

/**
 * What happened to a message a subscription or bus member took: `received` when it arrives, then
 * `dropped` if the consumer was more than maxPending behind (at-most-once), or `nacked` when it is
 * given back to an at-least-once backend to redeliver (its handler threw, or it was not consumed
 * before unsubscribe).
 */
export type DeliverOutcome = 'received' | 'dropped' | 'nacked';

/**
 * Called once when an outgoing operation ends, with the MsgError if it failed: a publish or bus send
 * once the backend took it, a request with its reply, a survey at its deadline (or maxResponses).
 */
export type SendEnd = (error: unknown, reply?: Message) => void;

/**
 * Installed with `transport.use(hooks)`. Every member is optional. A hook runs inline on the hot
 * path: keep it cheap, and do not throw (a throw from `send` fails the operation, one from `process`
 * counts as the handler's, one from `deliver` is the backend's problem).
 */
export interface TransportHooks {
  /**
   * A message is about to go out: a publish, a request, a survey question or a bus send, already
   * validated. `headers` is the message's own header object (a copy of the caller's), writable so
   * that context can travel with it, or undefined when the transport carries no headers
   * (`capabilities.headers` is false). What it adds must pass the same rules as the caller's: string
   * values, no `msg-` prefix. Returns what to call when the operation ends, if anything.
   */
  send?(event: HookEvent, headers: Headers | undefined): SendEnd | undefined;
  /**
   * Runs the handler of a replier, a respondent or a subscription for one message: call `work`
   * once and return what it returns (a value or a promise), so that the handler runs inside whatever
   * context the hook sets up and the hook sees how long it took and whether it threw.
   */
  process?<T>(event: HookEvent, work: () => T): T;
  /** A message reached a subscription or bus member, and what became of it; see DeliverOutcome. */
  deliver?(event: DeliverEvent, outcome: DeliverOutcome): void;
}

/** Several hooks as one: `send` and `deliver` run in order, the first `process` is the outermost. */
export function combineHooks(list: readonly TransportHooks[]): TransportHooks {
  if (list.length === 1) return list[0] as TransportHooks;
  const senders = list.filter((h) => h.send);
  const processors = list.filter((h) => h.process);
  const deliverers = list.filter((h) => h.deliver);
  const combined: TransportHooks = {};
  if (senders.length > 0) {
    combined.send = (event, headers) => {
      const ends = senders.map((h) => h.send!(event, headers)).filter((end): end is SendEnd => end !== undefined);
      if (ends.length === 0) return undefined;
      return (error, reply) => {
        for (const end of ends) end(error, reply);
      };
    };
  }
  if (processors.length > 0) {
    combined.process = <T>(event: HookEvent, work: () => T): T =>
      processors.reduceRight<() => T>((inner, h) => () => h.process!(event, inner), work)();
  }
  if (deliverers.length > 0) {
    combined.deliver = (event, outcome) => {
      for (const h of deliverers) h.deliver!(event, outcome);
    };
  }
  return combined;
}
