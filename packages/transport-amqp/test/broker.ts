// The tests' own corner of the shared RabbitMQ: a vhost and a user made for one test file and
// removed after it, so that cutting connections or leaving durable queues behind touches nobody else.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const HOST = '127.0.0.1';
export const PORT = 5672;

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 });
  return stdout;
}

export interface TestVhost {
  readonly vhost: string;
  readonly username: string;
  readonly password: string;
  /** `amqp://user:password@127.0.0.1:5672/vhost` */
  readonly url: string;
  /** Closes every connection to the vhost, as a broker restart or a network cut would. */
  cutConnections(): Promise<void>;
  /** Connections the broker holds open to the vhost. */
  connectionCount(): Promise<number>;
  remove(): Promise<void>;
}

export async function createVhost(label: string): Promise<TestVhost> {
  const suffix = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const vhost = `msg-amqp-${label}-${suffix}`;
  const username = `msg-amqp-${label}-${suffix}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('add_user', username, password);
  await rabbitmqctl('set_permissions', '-p', vhost, username, '.*', '.*', '.*');
  return {
    vhost,
    username,
    password,
    url: `amqp://${username}:${password}@${HOST}:${PORT}/${encodeURIComponent(vhost)}`,
    cutConnections: async () => {
      await rabbitmqctl('close_all_connections', '--vhost', vhost, 'cut by a test');
    },
    connectionCount: async () => {
      const out = await rabbitmqctl('list_connections', '--no-table-headers', 'vhost');
      return out.split('\n').filter((line) => line.trim() === vhost).length;
    },
    remove: async () => {
      // Tidying up after the cases: a vhost or user left behind (already gone, say) fails no test.
      await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
      await rabbitmqctl('delete_user', username).catch(() => undefined); // as above
    },
  };
}
