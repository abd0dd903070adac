// Transports that share no directory, as in two processes, configured only with nanocat-style
// endpoints: one binds, the other connects.

import { type Transport, connect } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory, type EndpointOptions, createZmqTransport, endpointsUrl } from '../src/index.js';
import { freePort } from '@msg/conformance';

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

const endpoint = async () => `tcp://127.0.0.1:${await freePort()}`;

/**
 * Runs `send` every 20 ms until `arrived` settles, at most 100 times: a broadcast sent before the
 * other side's connection is up is lost, and nothing reports when it is up.
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

describe('nanocat-style endpoints: transports with separate directories', () => {
  const open: Transport[] = [];
  const transport = async (endpoints: EndpointOptions) => {
    const t = await createZmqTransport({ directory: new Directory(), endpoints });
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
    const reply = await requester.request('greet', utf8('zmq'), { timeout: 5000 });
    expect(text(reply.data)).toBe('hello, zmq');
    expect(reply.headers.lang).toBe('en');
  });

  it('request/reply: the endpoint is the service, whatever name the requester asks for', async () => {
    const ep = await endpoint();
    const replier = await transport({ bind: [ep] });
    await replier.reply('greet', (request) => utf8(`greet got ${text(request.data)}`));
    const requester = await transport({ connect: [ep] });
    expect(text((await requester.request('other.name', utf8('x'), { timeout: 5000 })).data)).toBe('greet got x');
  });

  it('request/reply: a second replier in the bound transport gets a fresh endpoint, not the bound one', async () => {
    const ep = await endpoint();
    const directory = new Directory();
    const replier = await createZmqTransport({ directory, endpoints: { bind: [ep] } });
    open.push(replier);
    await replier.reply('first', () => utf8('1'));
    await replier.reply('second', () => utf8('2'));
    const port = (endpoint: string | undefined) => endpoint?.replace(/.*:/, '');
    expect(directory.services('first').map(port)).toEqual([port(ep)]);
    expect(directory.services('second')).toHaveLength(1);
    expect(port(directory.services('second')[0])).not.toBe(port(ep));
  });

  it('publish/subscribe: the subscriber connects to the publisher bound on the endpoint', async () => {
    const ep = await endpoint();
    const publisher = await transport({ bind: [ep] });
    const subscriber = await transport({ connect: [ep] });
    const stream = await subscriber.subscribe('news.*');
    const first = (async () => {
      for await (const message of stream) return message;
      throw new Error('the stream ended');
    })();
    const message = await until(first, () => publisher.publish('news.eu', utf8('rain'), { headers: { source: 'met' } }));
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

  it('bus: two members, each binding its own endpoint and connecting to the other\'s, hear each other', async () => {
    const [x, y] = [await endpoint(), await endpoint()];
    const a = await (await transport({ bind: [x], connect: [y] })).join('chat');
    const b = await (await transport({ bind: [y], connect: [x] })).join('chat');
    const next = async (member: typeof a) => {
      for await (const message of member) return text(message.data);
      throw new Error('left');
    };
    expect(await until(next(b), () => a.send(utf8('from a')))).toBe('from a');
    expect(await until(next(a), () => b.send(utf8('from b')))).toBe('from b');
  });

  it('survey: a surveyor given its pattern binds at creation, so its first survey reaches respondents connected before it', async () => {
    const ep = await endpoint();
    const surveyor = await transport({ bind: [ep], pattern: 'survey' });
    const respondent = await transport({ connect: [ep] });
    await respondent.respond('health', () => utf8('ok'));
    // The respondent's subscription reaches the bound publisher while we wait, as with nanocat's --delay.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const answers = (await surveyor.survey('health', utf8('?'), { deadline: 500 }).toArray()).map((a) => text(a.data));
    expect(answers).toEqual(['ok']);
  });

  it('request/reply: a replier given its pattern listens from creation and serves what was asked before reply()', async () => {
    const ep = await endpoint();
    const replier = await transport({ bind: [ep], pattern: 'reply' });
    const requester = await transport({ connect: [ep] });
    const asked = requester.request('greet', utf8('early'), { timeout: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await replier.reply('greet', (request) => utf8(`got ${text(request.data)}`));
    expect(text((await asked).data)).toBe('got early');
  });

  it('a URL from endpointsUrl carries both lists: zmq+tcp://HOST?bind=...&connect=...', async () => {
    const ep = await endpoint();
    const url = endpointsUrl([ep], []);
    expect(url).toBe(`zmq+tcp://127.0.0.1?bind=${encodeURIComponent(ep)}`);
    expect(endpointsUrl([ep], [], 'reply')).toBe(`zmq+tcp://127.0.0.1?bind=${encodeURIComponent(ep)}&pattern=reply`);
    const replier = await connect(url);
    open.push(replier);
    await replier.reply('echo', (request) => request.data);
    const requester = await connect(endpointsUrl([], [ep]));
    open.push(requester);
    expect(text((await requester.request('echo', utf8('via url'), { timeout: 5000 })).data)).toBe('via url');
  });

  it('binding an endpoint already in use fails with a connection error that names it', async () => {
    const ep = await endpoint();
    const first = await transport({ bind: [ep] });
    await first.reply('a', () => utf8('a'));
    const second = await transport({ bind: [ep] });
    await expect(second.reply('b', () => utf8('b'))).rejects.toMatchObject({ code: 'CONNECTION', message: `zmq: cannot bind ${ep}: Address already in use` });
  });
});
