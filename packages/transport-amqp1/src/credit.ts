// A receiving link's credit, given back as messages are done with (answered, consumed, settled)
// rather than as they arrive, which is what rhea's own credit window does: so a busy consumer holds
// at most its window and the broker keeps the rest, or gives it to another consumer. Credit goes
// back in batches of a quarter of the window, one flow frame for many messages. A reconnect
// attaches the link again with no credit and starts a new epoch: what arrived before it is not
// counted (and cannot be settled) on the new link.

import type { Receiver } from 'rhea';

export class Credit {
  readonly #window: number;
  readonly #batch: number;
  #receiver: Receiver | undefined;
  #owed = 0;
  #epoch = 0;

  constructor(window: number) {
    this.#window = Math.max(1, window);
    this.#batch = Math.max(1, this.#window >> 2);
  }

  /**
   * Gives a link its window as it is opened, so that the flow follows the attach on the wire and the
   * broker has it before it answers (a consumer without credit would be passed over), and again
   * after each reconnect.
   */
  attach(receiver: Receiver): void {
    this.#receiver = receiver;
    receiver.add_credit(this.#window);
    let attached = false;
    receiver.on('receiver_open', () => {
      if (!attached) {
        attached = true;
        return;
      }
      this.#epoch++;
      this.#owed = 0;
      receiver.add_credit(this.#window);
    });
  }

  /** The link's current attachment; a message remembers the one it arrived on. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Whether a message that arrived in `epoch` can still be settled on the link. */
  current(epoch: number): boolean {
    return epoch === this.#epoch && this.#receiver?.is_open() === true;
  }

  /** One message that arrived in `epoch` is done with. */
  giveBack(epoch: number): void {
    if (!this.current(epoch)) return;
    if (++this.#owed < this.#batch) return;
    this.#receiver?.add_credit(this.#owed);
    this.#owed = 0;
  }
}
