// Survey: the question goes out on the surveyor's PUB under "~survey:<topic>" with the address of its
// inbox (a ROUTER); each respondent answers straight to that inbox over a DEALER. The core's signal
// ends the survey at the deadline, after which late answers find no one waiting and are dropped.

import { type Deliver, Kind, type Message, type Serve, type Stop } from '@msg/core';
import { Dealer, Router } from 'zeromq';
import type { Publishing, Subscriptions } from './pubsub.js';
import { type SocketSettings, bindTo, closeBinding, forBinding, forConnecting, send } from './sockets.js';
import { DELIMITER, SURVEY_PREFIX, encodeMeta, readMeta } from './wire.js';

interface Asking {
  readonly topic: string;
  readonly deliver: Deliver;
}

/** The surveyor's side: one inbox for the answers to all of this transport's surveys. */
export class Surveys {
  #settings: SocketSettings;
  #bind: string;
  #inbox: Promise<{ router: Router; endpoint: string }> | undefined;
  #asking = new Map<string, Asking>();

  constructor(settings: SocketSettings, bind: string) {
    this.#settings = settings;
    this.#bind = bind;
  }

  async survey(publishing: Publishing, question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    const { endpoint } = await (this.#inbox ??= this.#open());
    if (signal.aborted) return;
    this.#asking.set(question.id, { topic: question.subject, deliver });
    signal.addEventListener('abort', () => this.#asking.delete(question.id), { once: true });
    await publishing.send([SURVEY_PREFIX + question.subject, question.data, encodeMeta(Kind.survey, question, endpoint)]);
  }

  async #open(): Promise<{ router: Router; endpoint: string }> {
    const router = forBinding(new Router(), this.#settings);
    const endpoint = await bindTo(router, this.#settings, this.#bind);
    void (async () => {
      try {
        for await (const [, delimiter, payload, metaFrame] of router) {
          if (delimiter === undefined || delimiter.length !== 0 || payload === undefined || metaFrame === undefined) continue;
          const meta = readMeta(metaFrame);
          const asking = meta && this.#asking.get(meta.id);
          if (meta && asking) asking.deliver({ id: meta.id, subject: asking.topic, data: payload, headers: meta.headers });
        }
      } catch {
        // The socket was closed.
      }
    })();
    return { router, endpoint };
  }

  async close(): Promise<void> {
    this.#asking.clear();
    // An inbox that never bound has nothing to close; its failure went to the survey that opened it.
    const inbox = this.#inbox && (await this.#inbox.catch(() => undefined));
    if (inbox) closeBinding(inbox.router, this.#settings);
  }
}

/** The respondents' side: DEALERs to the inboxes of surveyors, kept while they stay connected. */
export class Answers {
  #settings: SocketSettings;
  #dealers = new Map<string, Dealer>();

  constructor(settings: SocketSettings) {
    this.#settings = settings;
  }

  /** Answers every question on `topic` with `handler` until stopped. */
  respond(subscriptions: Subscriptions, topic: string, handler: Serve): Promise<Stop> {
    return subscriptions
      .listen(SURVEY_PREFIX + topic, (_topic, [, payload, metaFrame]) => {
        // Without a reply address (a native publisher's message) there is no one to answer.
        const meta = metaFrame && readMeta(metaFrame);
        if (!meta || !meta.replyTo || payload === undefined) return;
        const question: Message = { id: meta.id, subject: topic, data: payload, headers: meta.headers };
        void handler(question).then((answer) => this.#send(meta.replyTo, answer));
      })
      .then((stop) => async () => stop());
  }

  #send(inbox: string, answer: Message): void {
    let dealer = this.#dealers.get(inbox);
    if (!dealer) {
      const fresh = (dealer = forConnecting(new Dealer(), this.#settings));
      fresh.connect(inbox);
      // A surveyor that went away is forgotten; a later question from it connects again.
      fresh.events.on('disconnect', () => {
        if (this.#dealers.get(inbox) === fresh) this.#dealers.delete(inbox);
        fresh.close();
      });
      this.#dealers.set(inbox, fresh);
    }
    // At-most-once: an answer the surveyor's queue cannot take is dropped.
    send(dealer, [DELIMITER, answer.data, encodeMeta(Kind.answer, answer)]).catch(() => undefined);
  }

  close(): void {
    for (const dealer of this.#dealers.values()) dealer.close();
    this.#dealers.clear();
  }
}
