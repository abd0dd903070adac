// Request/reply: requests go to the service's request topic, read by one group that all its
// repliers share (so each request reaches one of them); replies go to the requester's inbox.

import { type Message, NoRespondersError, type RequestCall, type Serve, type Stop } from '@msg/core';
import type { Connection } from './connection.js';
import { consume } from './consumer.js';
import type { Inbox } from './inbox.js';
import { replierGroup, requestTopic } from './names.js';
import { fromRecord, toRecord } from './wire.js';

/** Requests one replier serves at the same time. */
export const CONCURRENT_REQUESTS = 64;

export async function request(connection: Connection, inbox: Inbox, call: RequestCall): Promise<void> {
  const request = call.message;
  const topic = requestTopic(request.subject);
  // No request topic: no replier has ever served this service.
  if (!(await connection.hasTopic(topic))) throw new NoRespondersError(request.subject);
  if (call.done) return;
  inbox.replies.add(request.id, call);
  connection.outbox
    .send(topic, toRecord(request, { replyTo: inbox.topic, deadline: call.deadline }))
    .catch((error: unknown) => inbox.replies.reject(request.id, error));
}

export async function reply(connection: Connection, service: string, serve: Serve): Promise<Stop> {
  const topic = requestTopic(service);
  await connection.ensureTopic(topic);
  return consume(connection, {
    topic,
    groupId: replierGroup(service),
    ephemeral: false,
    maxPending: CONCURRENT_REQUESTS,
    take: (record, partition, settle) => {
      const { message, replyTo, deadline } = fromRecord(record, service, `${topic}/${partition}`);
      // Nobody waits for the answer any more: skip the work.
      if (replyTo === undefined || (deadline !== undefined && Date.now() > deadline)) return settle();
      void untilDeadline(serve(message), deadline)
        .then((answer) => answer && connection.answers.send(replyTo, toRecord(answer, { subject: true })))
        // A reply that cannot be sent (the requester is gone) is not worth serving again.
        .catch(() => undefined)
        .finally(() => settle());
    },
  });
}

/**
 * The answer, or nothing once the requester's deadline has passed: a handler that hangs then stops
 * holding a place among the requests served at once and the commits behind it, and its late answer,
 * which nobody waits for, is dropped.
 */
function untilDeadline(answer: Promise<Message>, deadline: number | undefined): Promise<Message | undefined> {
  if (deadline === undefined) return answer;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}
