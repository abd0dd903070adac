// A requester's own reply topic: replies to its requests and answers to its surveys arrive here and
// are matched to the waiting request or survey by the message id they carry.

import { ConnectionError, type Deliver, type Message, PendingReplies } from '@msg/core';
import { type Connection, MAX_PAYLOAD } from './connection.js';
import { consume, type StopConsuming } from './consumer.js';
import { inboxTopic } from './names.js';
import { fromRecord } from './wire.js';
import { toKafkaError } from './errors.js';

export class Inbox {
  readonly topic: string;
  readonly replies = new PendingReplies();
  readonly #surveys = new Map<string, Deliver>();
  readonly #connection: Connection;
  #stop: StopConsuming | undefined;

  private constructor(connection: Connection) {
    this.#connection = connection;
    this.topic = inboxTopic(connection.id);
  }

  static async open(connection: Connection): Promise<Inbox> {
    const inbox = new Inbox(connection);
    // One partition: replies need no sharing, only to arrive.
    await connection.ensureTopic(inbox.topic, 1);
    inbox.#stop = await consume(connection, {
      topic: inbox.topic,
      groupId: inbox.topic,
      ephemeral: true,
      maxPending: 1000,
      take: (record, _partition, settle) => {
        settle();
        inbox.#arrived(fromRecord(record, '', inbox.topic).message);
      },
      // The broker went away: a reply sent now may never be read, so nobody is left waiting on it.
      onCrash: (error) => inbox.replies.rejectAll(new ConnectionError('kafka: lost the broker while waiting for the reply', { cause: error })),
    });
    return inbox;
  }

  /** Passes every answer carrying `id` to `deliver` until `signal` aborts. */
  collect(id: string, deliver: Deliver, signal: AbortSignal): void {
    this.#surveys.set(id, deliver);
    signal.addEventListener('abort', () => this.#surveys.delete(id), { once: true });
  }

  #arrived(message: Message): void {
    if (this.replies.resolve(message.id, message)) return;
    this.#surveys.get(message.id)?.(message);
    // Anything else is a reply nobody waits for any more (timed out, aborted): dropped.
  }

  async close(): Promise<void> {
    await this.#stop?.();
    await this.#connection.allLeft();
    // An inbox topic left behind takes disk until deleted by hand; report it rather than fail close.
    await this.#connection.deleteTopic(this.topic).catch((error: unknown) => {
      this.#connection.status.error('admin', toKafkaError(error, `deleting the reply topic "${this.topic}"`, MAX_PAYLOAD));
    });
  }
}
