// Transports that share no directory, as in two processes, configured only with nanocat-style
// endpoints: one binds, the other connects.

import { type Transport, connect } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { newEndpoint } from '../src/endpoints.js';
import { Directory, type EndpointOptions, createNanomsgTransport, endpointsUrl } from '../src/index.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const endpoint = () => newEndpoint('tcp://127.0.0.1');

/**
 * Runs `send` every 20 ms until `arrived` settles, at most 100 times: a broadcast sent before the
 * other side's connection is up is lost, and nanomsg reports no connections.
 */
async function until<T>(arrived: Promise<T>, send: () => Promise<unknown>): Promise<T> {
  let settled = false;
  const result = arrived.finally(() => (settled = true));
  for (let i = 0; i < 100 && !settled; i++) {
    await send();
    await Promise.race([result, new Promise((resolve) => setTimeout(resolve, 20))]);
  }
  return result;
}

async function first<T>(stream: AsyncIterable<T>): Promise<T> {
  for await (const item of stream) return item;
  throw new Error('the stream ended');
}

describe('nanocat-style endpoints: transports with separate directories', () => {
  const open: Transport[] = [];
  const transport = async (endpoints: EndpointOptions, wire: 'plain' | 'envelope' = 'envelope') => {
    const t = await createNanomsgTransport({ directory: new Directory(), listen: 'tcp://127.0.0.1', endpoints, wire });
    open.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  it('request/reply: the requester reaches the replier bound on the endpoint it connects to', async () => {
    const ep = await endpoint();
    const replier = await transport({ bind: [ep] });
    await replier.reply('greet', (request) => ({ data: utf8(`hello, ${text(request.data)}`), headers: { lang: 'en' } }));
    const requester = await transport({ connect: [ep] });
    const reply = await requester.request('greet', utf8('nanomsg'), { timeout: 5000 });
    expect(text(reply.data)).toBe('hello, nanomsg');
    expect(reply.headers.lang).toBe('en');
  });

  it('request/reply on the plain wire: the payload alone travels, and the endpoint is the service', async () => {
    const ep = await endpoint();
    const replier = await transport({ bind: [ep] }, 'plain');
    await replier.reply('greet', (request) => utf8(`greet got ${text(request.data)}`));
    const requester = await transport({ connect: [ep] }, 'plain');
    const reply = await requester.request('any.name', utf8('x'), { timeout: 5000 });
    expect(text(reply.data)).toBe('greet got x');
    expect(reply.headers).toEqual({});
  });

  it('request/reply: a second replier in the bound transport gets a fresh endpoint, not the bound one', async () => {
    const ep = await endpoint();
    const directory = new Directory();
    const replier = await createNanomsgTransport({ directory, listen: 'tcp://127.0.0.1', endpoints: { bind: [ep] } });
    open.push(replier);
    await replier.reply('first', () => utf8('1'));
    await replier.reply('second', () => utf8('2'));
    expect(directory.services('first')).toEqual([ep]);
    expect(directory.services('second')).toHaveLength(1);
    expect(directory.services('second')).not.toContain(ep);
  });

  it('publish/subscribe: the subscriber connects to the publisher bound on the endpoint', async () => {
    const ep = await endpoint();
    const publisher = await transport({ bind: [ep] });
    const subscriber = await transport({ connect: [ep] });
    const message = await until(first(await subscriber.subscribe('news.*')), () => publisher.publish('news.eu', utf8('rain'), { headers: { source: 'met' } }));
    expect(message.subject).toBe('news.eu');
    expect(text(message.data)).toBe('rain');
    expect(message.headers.source).toBe('met');
  });

  it('survey: a respondent connected to the surveyor bound on the endpoint answers', async () => {
    const ep = await endpoint();
    const surveyor = await transport({ bind: [ep] });
    const respondent = await transport({ connect: [ep] });
    await respondent.respond('health', () => utf8('ok'));
    let answers: string[] = [];
    for (let i = 0; i < 20 && answers.length === 0; i++) {
      answers = [];
      for await (const answer of surveyor.survey('health', utf8('?'), { deadline: 250 })) answers.push(text(answer.data));
    }
    expect(answers).toEqual(['ok']);
  });

  it('survey: a surveyor given its pattern binds at creation, so its first survey reaches respondents connected before it', async () => {
    const ep = await endpoint();
    const surveyor = await createNanomsgTransport({ directory: new Directory(), listen: 'tcp://127.0.0.1', endpoints: { bind: [ep], pattern: 'survey' } });
    open.push(surveyor);
    const respondent = await transport({ connect: [ep] });
    await respondent.respond('health', () => utf8('ok'));
    // nanomsg reports no connection: wait for it, as with nanocat's --delay.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const answers = (await surveyor.survey('health', utf8('?'), { deadline: 500 }).toArray()).map((a) => text(a.data));
    expect(answers).toEqual(['ok']);
  });

  it('request/reply: a replier given its pattern listens from creation and serves what was asked before reply()', async () => {
    const ep = await endpoint();
    const replier = await createNanomsgTransport({ directory: new Directory(), listen: 'tcp://127.0.0.1', endpoints: { bind: [ep], pattern: 'reply' } });
    open.push(replier);
    const requester = await transport({ connect: [ep] });
    const asked = requester.request('greet', utf8('early'), { timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await replier.reply('greet', (request) => utf8(`got ${text(request.data)}`));
    expect(text((await asked).data)).toBe('got early');
  });

  it('bus: a member that connects to the one bound on the endpoint hears it and is heard', async () => {
    const ep = await endpoint();
    const a = await (await transport({ bind: [ep] })).join('chat');
    const b = await (await transport({ connect: [ep] })).join('chat');
    expect(text((await until(first(b), () => a.send(utf8('from a')))).data)).toBe('from a');
    expect(text((await until(first(a), () => b.send(utf8('from b')))).data)).toBe('from b');
  });

  it('a URL from endpointsUrl carries both lists and the plain wire: nanomsg+tcp://HOST?wire=plain&bind=...', async () => {
    const ep = await endpoint();
    const url = endpointsUrl([ep], []);
    expect(url).toBe(`nanomsg+tcp://127.0.0.1?wire=plain&bind=${encodeURIComponent(ep)}`);
    const replier = await connect(url, { directory: new Directory() });
    open.push(replier);
    expect(replier.capabilities.headers).toBe(false);
    await replier.reply('echo', (request) => request.data);
    const requester = await connect(endpointsUrl([], [ep]), { directory: new Directory() });
    open.push(requester);
    expect(text((await requester.request('echo', utf8('via url'), { timeout: 5000 })).data)).toBe('via url');
  });

  it('binding an endpoint already in use fails with a connection error that names it', async () => {
    const ep = await endpoint();
    const firstReplier = await transport({ bind: [ep] });
    await firstReplier.reply('a', () => utf8('a'));
    const second = await transport({ bind: [ep] });
    await expect(second.reply('b', () => utf8('b'))).rejects.toMatchObject({ code: 'CONNECTION', message: expect.stringContaining(`cannot bind ${ep}`) });
  });
});
