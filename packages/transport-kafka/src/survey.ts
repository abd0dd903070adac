// Survey: a question goes to the survey topic, where every respondent has a group of its own, and
// each answer goes to the surveyor's inbox.

import type { Deliver, Message, Serve, Stop } from '@msg/core';
import type { Connection } from './connection.js';
import { consume } from './consumer.js';
import type { Inbox } from './inbox.js';
import { ownGroup, surveyTopic } from './names.js';
import { fromRecord, toRecord } from './wire.js';

const CONCURRENT_QUESTIONS = 64;

export async function survey(connection: Connection, inbox: Inbox, question: Message, deliver: Deliver, signal: AbortSignal): Promise<void> {
  const topic = surveyTopic(question.subject);
  // No survey topic: nobody has ever responded on it, so the survey ends empty at its deadline.
  if (!(await connection.hasTopic(topic))) return;
  inbox.collect(question.id, deliver, signal);
  await connection.outbox.send(topic, toRecord(question, { replyTo: inbox.topic }));
}

export async function respond(connection: Connection, subject: string, serve: Serve): Promise<Stop> {
  const topic = surveyTopic(subject);
  await connection.ensureTopic(topic);
  return consume(connection, {
    topic,
    groupId: ownGroup(topic),
    ephemeral: true,
    maxPending: CONCURRENT_QUESTIONS,
    take: (record, partition, settle) => {
      const { message, replyTo } = fromRecord(record, subject, `${topic}/${partition}`);
      if (replyTo === undefined) return settle();
      void serve(message)
        .then((answer) => connection.answers.send(replyTo, toRecord(answer, { subject: true })))
        // An answer that cannot be sent (the surveyor is gone, its inbox deleted) is not worth sending again.
        .catch(() => undefined)
        .finally(() => settle());
    },
  });
}
