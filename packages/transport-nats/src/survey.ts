// Survey: the question goes to every respondent's plain subscription with a fresh inbox as its
// reply subject; every answer on that inbox is passed on until the deadline ends the survey.

import type { Deliver, Message, Serve, Stop } from '@msg/core';
import { type NatsConnection, createInbox } from '@nats-io/transport-node';
import { toCoreError } from './errors.js';
import { serveRequests } from './reqrep.js';
import { fromNats, isNoResponders, toNatsHeaders } from './wire.js';

export function survey(nc: NatsConnection, question: Message, deliver: Deliver, signal: AbortSignal, maxPayload: number): void {
  const inbox = createInbox();
  const answers = nc.subscribe(inbox, {
    callback: (error, msg) => {
      if (error === null && !isNoResponders(msg)) deliver(fromNats(msg, question.subject));
    },
  });
  signal.addEventListener('abort', () => answers.unsubscribe(), { once: true });
  const headers = toNatsHeaders(question);
  try {
    nc.publish(question.subject, question.data, { reply: inbox, headers });
  } catch (error) {
    answers.unsubscribe();
    throw toCoreError(error, { what: `survey on "${question.subject}"`, subject: question.subject, size: question.data.length, headers, maxPayload });
  }
}

/** A respondent is a replier outside any queue group: every one of them gets every question. */
export function respond(nc: NatsConnection, topic: string, serve: Serve, maxPayload: number): Promise<Stop> {
  return serveRequests(nc, topic, serve, undefined, maxPayload);
}
