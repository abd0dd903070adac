// A requester that leaves takes its inbox topic with it. kafkajs keeps every topic a producer ever
// sent to in its metadata requests, so after that deletion the replier's producer could no longer
// send anywhere: replies to every later requester were lost. Replies must keep flowing.

import { text } from '@msg/core';
import { checkBroker, uniqueName } from '@msg/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { type KafkaOptions, createKafkaTransport } from '../src/index.js';

const skip = await checkBroker('Kafka', '127.0.0.1', 9092);
const options: KafkaOptions = { brokers: ['127.0.0.1:9092'] };
const open: Array<{ close(): Promise<void> }> = [];
afterAll(() => Promise.all(open.map((t) => t.close())), 60_000);

describe.skipIf(skip !== undefined)('kafka request/reply after a requester left', () => {
  it('requesters that come later still get their replies', async () => {
    const replier = await createKafkaTransport(options);
    open.push(replier);
    const service = uniqueName('departed');
    await replier.reply(service, (request) => request.data);

    const leaving = await createKafkaTransport(options);
    expect(text.decode((await leaving.request(service, text.encode('first'), { timeout: 20_000 })).data)).toBe('first');
    await leaving.close();

    const later = await Promise.all([1, 2, 3].map(() => createKafkaTransport(options)));
    open.push(...later);
    const replies = await Promise.all(later.map((t, i) => t.request(service, text.encode(`later${i}`), { timeout: 15_000 })));
    expect(replies.map((reply) => text.decode(reply.data))).toEqual(['later0', 'later1', 'later2']);
  }, 90_000);
});
