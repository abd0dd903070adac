// Survey on pub/sub: the question goes to the topic's channel, which every respondent subscribes to;
// answers come back to the surveyor's inbox, matched to their survey by id until its deadline.

import { type Deliver, Kind, type Message, type Serve, type Stop } from '@msg/core';
import type { Redis } from 'ioredis';
import type { Channels } from './channels.js';
import { type Names, frame, unframe } from './wire.js';

export interface SurveyContext {
  names: Names;
  command: Redis;
  channels: Channels;
  inbox: () => Promise<string>;
  /** A frame that does not decode, received on `connection` (default: the subscriber). */
  onBadFrame: (error: unknown, connection?: string) => void;
}

export class Surveys {
  readonly #ctx: SurveyContext;
  readonly #open = new Map<string, Deliver>();

  constructor(ctx: SurveyContext) {
    this.#ctx = ctx;
  }

  async survey(question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
    const inbox = await this.#ctx.inbox();
    if (signal.aborted) return;
    this.#open.set(question.id, deliver);
    signal.addEventListener('abort', () => this.#open.delete(question.id), { once: true });
    await this.#ctx.command.publish(this.#ctx.names.survey(question.subject), frame(Kind.survey, question, inbox));
  }

  /** The inbox hands each answer here; one for a survey that has ended is dropped. */
  answer(message: Message): void {
    this.#open.get(message.id)?.(message);
  }

  respond(topic: string, serve: Serve): Promise<Stop> {
    const { names, channels, command } = this.#ctx;
    return channels.listen(names.survey(topic), (payload) => {
      let question: Message;
      let replyTo: string;
      try {
        ({ message: question, replyTo } = unframe(payload, Kind.survey));
      } catch (error) {
        this.#ctx.onBadFrame(error);
        return;
      }
      // PUBLISH fails only with the connection, which status() reports; the survey's deadline ends it.
      void serve(question).then((answer) => command.publish(replyTo, frame(Kind.answer, answer)).catch(() => undefined));
    });
  }
}
