// A request in flight is one object: what the backend sends, its deadline, and the one place that
// settles it. All requests of a transport share one deadline structure, so a request costs no timer,
// no AbortController and no listener of its own (a listener only when the caller passed a signal).

import { AbortedError, type MsgError, RemoteError, TimeoutError } from './errors.js';
import { ERROR_CODE_HEADER, ERROR_HEADER, type Message } from './message.js';

/** What a backend sees of a request: see Backend.request for the rules. */
export interface RequestCall {
  /** The request to send. Its `id` is unique per transport: a backend may correlate the reply by it. */
  readonly message: Message;
  /** When the core fails the request with TimeoutError, in epoch milliseconds, for wires that carry one. */
  readonly deadline: number;
  /** True once the request has ended, by a reply, a failure, its deadline, its signal or close. */
  readonly done: boolean;
  /**
   * Settles with the reply as it arrived (an error reply becomes RemoteError; the caller sees the
   * request's subject on it, whatever the wire said). Ignored once done.
   */
  resolve(reply: Message): void;
  /** Fails the request, e.g. because the backend could not send it. Ignored once done. */
  reject(error: unknown): void;
  /**
   * `cancel` runs once if the core ends the request before the backend settled it (deadline, signal,
   * close): forget the request, and drop a reply that arrives later. One function per request; a
   * second call replaces the first.
   */
  onCancel(cancel: (reason: MsgError) => void): void;
}

/** A request in flight, linked into the list of requests that share its timeout. */
export class Call implements RequestCall {
  readonly message: Message;
  readonly deadline: number;
  /** performance.now() at which it times out: monotonic, unlike `deadline`. */
  readonly due: number;
  readonly timeout: number;
  done = false;
  prev: Call | undefined;
  next: Call | undefined;
  readonly #list: DeadlineList;
  readonly #resolve: (reply: Message) => void;
  readonly #reject: (error: unknown) => void;
  #cancel: ((reason: MsgError) => void) | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  constructor(message: Message, timeout: number, list: DeadlineList, resolve: (reply: Message) => void, reject: (error: unknown) => void) {
    this.message = message;
    this.timeout = timeout;
    this.due = performance.now() + timeout;
    this.deadline = Date.now() + timeout;
    this.#list = list;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Aborting `signal` fails the request with AbortedError. */
  watch(signal: AbortSignal): void {
    this.#signal = signal;
    this.#onAbort = () => this.end(new AbortedError(undefined, { cause: signal.reason }));
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  onCancel(cancel: (reason: MsgError) => void): void {
    this.#cancel = cancel;
  }

  resolve(reply: Message): void {
    if (this.done) return;
    const remote = reply.headers[ERROR_HEADER];
    if (remote !== undefined) return this.reject(new RemoteError(remote, reply.headers[ERROR_CODE_HEADER]));
    this.#finish();
    this.#resolve(reply.subject === this.message.subject ? reply : { ...reply, subject: this.message.subject });
  }

  reject(error: unknown): void {
    if (this.done) return;
    this.#finish();
    this.#reject(error);
  }

  /** The core ends it first: the backend is told to forget it. */
  end(reason: MsgError): void {
    if (this.done) return;
    const cancel = this.#cancel;
    this.reject(reason);
    cancel?.(reason);
  }

  #finish(): void {
    this.done = true;
    this.#cancel = undefined;
    this.#list.remove(this);
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

/**
 * The requests of one timeout value, in the order they were sent, which is also the order in which
 * they fall due. One timer serves the list: it fires at the first due request, fails what is due and
 * waits for the next. It is not cleared when the list empties (that would be a timer per request
 * again for a client with one request outstanding), only unreferenced, so the process can still exit.
 */
class DeadlineList {
  readonly #timeout: number;
  readonly #onEmpty: () => void;
  #head: Call | undefined;
  #tail: Call | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Infinity;

  constructor(timeout: number, onEmpty: () => void) {
    this.#timeout = timeout;
    this.#onEmpty = onEmpty;
  }

  get empty(): boolean {
    return this.#head === undefined;
  }

  add(call: Call): void {
    call.prev = this.#tail;
    if (this.#tail) this.#tail.next = call;
    else this.#head = call;
    this.#tail = call;
    if (this.#timer === undefined || this.#timerDue > call.due) this.#arm(call.due);
    else if (call.prev === undefined) this.#timer.ref();
  }

  remove(call: Call): void {
    if (call.prev) call.prev.next = call.next;
    else if (this.#head === call) this.#head = call.next;
    else return; // not linked
    if (call.next) call.next.prev = call.prev;
    else this.#tail = call.prev;
    call.prev = call.next = undefined;
    if (this.#head === undefined) this.#timer?.unref();
  }

  /** Every call in the list, for close. */
  calls(): Call[] {
    const out: Call[] = [];
    for (let call = this.#head; call; call = call.next) out.push(call);
    return out;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(due: number): void {
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(this.#expire, Math.max(0, due - performance.now()));
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    // A timer may fire a little early against performance.now(); 1 ms of slack keeps it from re-arming for nothing.
    while (this.#head && this.#head.due <= now + 1) {
      const call = this.#head;
      call.end(new TimeoutError(`no reply from "${call.message.subject}" within ${this.#timeout} ms`));
    }
    if (this.#head) this.#arm(this.#head.due);
    else this.#onEmpty();
  };
}

/** Every request in flight on one transport, by timeout value. */
export class Deadlines {
  readonly #lists = new Map<number, DeadlineList>();

  /** A new call, already counting down. */
  start(message: Message, timeout: number, resolve: (reply: Message) => void, reject: (error: unknown) => void): Call {
    let list = this.#lists.get(timeout);
    if (!list) {
      const created = new DeadlineList(timeout, () => {
        // A timeout value no request uses any more is forgotten, so that varied timeouts do not pile up.
        if (created.empty) this.#lists.delete(timeout);
      });
      list = created;
      this.#lists.set(timeout, list);
    }
    const call = new Call(message, timeout, list, resolve, reject);
    list.add(call);
    return call;
  }

  /** Ends every call in flight with `reason` and stops the timers. */
  endAll(reason: () => MsgError): void {
    for (const list of this.#lists.values()) {
      for (const call of list.calls()) call.end(reason());
      list.stop();
    }
    this.#lists.clear();
  }
}
