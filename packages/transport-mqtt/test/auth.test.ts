// A broker of this test's own with a password file: a wrong password is a clear CONNECTION error that
// never shows the secret (in the message, the stack or any cause), and the right one connects.

import { everythingShown } from '@msg/conformance';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { connect, isMsgError, text } from '@msg/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../src/index.js';
import { TestBroker } from './server.js';

const user = 'orders-service';
const password = `right-${Math.random().toString(36).slice(2)}`;
const wrong = `wrong-${Math.random().toString(36).slice(2)}`;

describe('password authentication', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await TestBroker.start((dir) => {
      const file = join(dir, 'passwords');
      execFileSync('mosquitto_passwd', ['-c', '-b', file, user, password]);
      return { anonymous: false, config: [`password_file ${file}`] };
    });
  });
  afterAll(() => broker.stop());

  it('a wrong password is a CONNECTION error that says to check the credentials and does not contain the password', async () => {
    const error = await createMqttTransport({ url: broker.url, username: user, password: wrong }).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect((error as Error).message).toMatch(/refused by the broker.*check the user name and password/);
    expect((error as Error).message).toContain(broker.url);
    expect(everythingShown(error)).not.toContain(wrong);
  });

  it('a wrong password in the URL is refused the same way, and the URL shown has no credentials', async () => {
    const error = await connect(`mqtt://${user}:${wrong}@127.0.0.1:${broker.port}`).catch((e: unknown) => e);
    expect(isMsgError(error, 'CONNECTION')).toBe(true);
    expect(everythingShown(error)).not.toContain(wrong);
    expect((error as Error).message).toContain(broker.url);
  });

  it('no credentials at all is refused too', async () => {
    await expect(createMqttTransport({ url: broker.url })).rejects.toMatchObject({ code: 'CONNECTION', message: expect.stringMatching(/check the user name and password/) });
  });

  it('the right password connects, for both profiles', async () => {
    for (const qos of [0, 1] as const) {
      const transport = await connect(`mqtt${qos ? '+qos1' : ''}://${user}:${password}@127.0.0.1:${broker.port}`);
      try {
        await transport.reply('auth.echo', (request) => request.data);
        expect(text.decode((await transport.request('auth.echo', text.encode('hello'))).data)).toBe('hello');
        // The QoS 1 profile's subscriptions open connections of their own, with the same credentials.
        const stream = await transport.subscribe('auth.events');
        await transport.publish('auth.events', text.encode('in'));
        for await (const message of stream) {
          expect(text.decode(message.data)).toBe('in');
          break;
        }
      } finally {
        await transport.close();
      }
    }
  });
});
