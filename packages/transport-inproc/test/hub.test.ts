import { connect, text } from '@msg/core';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

describe('inproc hubs', () => {
  it('connect("inproc://NAME") joins hub NAME; transports on other hubs do not see it', async () => {
    const server = await connect('inproc://hub-a');
    const sameHub = await connect('inproc://hub-a');
    const otherHub = await connect('inproc://hub-b');
    try {
      await server.reply('greet', (request) => text.encode(`hello ${text.decode(request.data)}`));
      const reply = await sameHub.request('greet', text.encode('ada'));
      expect(text.decode(reply.data)).toBe('hello ada');
      await expect(otherHub.request('greet', text.encode('bob'), { timeout: 200 })).rejects.toMatchObject({ code: 'NO_RESPONDERS' });
    } finally {
      await Promise.all([server.close(), sameHub.close(), otherHub.close()]);
    }
  });

  it('the receiver gets a copy: changing it does not change what the sender holds', async () => {
    const a = await connect('inproc://copy');
    const b = await connect('inproc://copy');
    try {
      const sent = Uint8Array.from([1, 2, 3]);
      await a.reply('mutate', (request) => {
        request.data[0] = 99;
        return request.data;
      });
      const reply = await b.request('mutate', sent);
      expect(reply.data[0]).toBe(99);
      expect(sent[0]).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
