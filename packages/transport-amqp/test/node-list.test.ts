// The `cluster` option on the shared broker: a node that does not answer is passed over for the next,
// a list with none that answers fails with one CONNECTION error naming every node, and a malformed
// entry is refused before anything connects. (Failover on a real cluster: cluster.test.ts.)

import { checkBroker, freePort, str, utf8 } from '@msg/conformance';
import { describe, expect, it } from 'vitest';
import { createAmqpTransport } from '../src/index.js';
import { HOST, PORT } from './broker.js';

const skip = await checkBroker('RabbitMQ', HOST, PORT);

describe.skipIf(skip)('amqp cluster option', () => {
  it('connects to the first node that answers, in the order given', async () => {
    const nobody = await freePort();
    const t = await createAmqpTransport({ cluster: [`127.0.0.1:${nobody}`, `${HOST}:${PORT}`], reconnect: { initialDelayMs: 20 } });
    try {
      await t.reply('node-list.echo', (request) => request.data);
      expect(str((await t.request('node-list.echo', utf8('hi'))).data)).toBe('hi');
    } finally {
      await t.close();
    }
  });

  it('with no node answering, fails with a CONNECTION error that names every node', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const error = await createAmqpTransport({ cluster: [`127.0.0.1:${a}`, `127.0.0.1:${b}`], reconnect: { initialDelayMs: 20 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONNECTION', message: expect.stringContaining(`any of amqp://guest@127.0.0.1:${a}/, amqp://guest@127.0.0.1:${b}/`) });
  });

  it('refuses an empty list and a malformed node, saying what a node looks like', async () => {
    await expect(createAmqpTransport({ cluster: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('host:port') });
    await expect(createAmqpTransport({ cluster: ['127.0.0.1:99999'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('1-65535') });
    await expect(createAmqpTransport({ cluster: ['a:b:c'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('host:port') });
  });
});
