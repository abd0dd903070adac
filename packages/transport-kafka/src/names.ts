// The Kafka topics and consumer groups behind each pattern. Publish/subscribe uses the topic's own
// name, so plain Kafka producers and consumers meet it; the other patterns live under `msg.`.

import { randomUUID } from 'node:crypto';

export const requestTopic = (service: string) => `msg.request.${service}`;
/** Every replier of a service is in this one group: each request reaches one of them. */
export const replierGroup = (service: string) => `msg.request.${service}`;
export const inboxTopic = (transportId: string) => `msg.inbox.${transportId}`;
export const surveyTopic = (topic: string) => `msg.survey.${topic}`;
export const busTopic = (group: string) => `msg.bus.${group}`;

/** A group of one: it receives every record of the topic (fan-out). */
export const ownGroup = (topic: string) => `msg.own.${topic}.${randomUUID()}`;
/** Scoped by topic: one queue or durable name on two topics must not make one group of both. */
export const queueGroup = (topic: string, queue: string) => `msg.queue.${topic}.${queue}`;
export const durableGroup = (topic: string, durable: string) => `msg.durable.${topic}.${durable}`;
