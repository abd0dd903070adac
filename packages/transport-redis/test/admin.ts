// A plain Redis connection for the tests to look at and act on the server from outside the adapter.
// It touches only what the tests own: connections by the name a test gave them, keys by its prefix.

import { Redis } from 'ioredis';

export const HOST = '127.0.0.1';
export const PORT = 6379;

export function unique(label: string): string {
  return `msgtest-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export function openAdmin(): Redis {
  return new Redis({ host: HOST, port: PORT, lazyConnect: false, maxRetriesPerRequest: 1 });
}

/** Ids of the connections named `<connectionName>:<role>`, i.e. those of one test's transports. */
export async function connectionIds(admin: Redis, connectionName: string): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${connectionName}:`))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
}

/** Cuts the connections of one test's transports, by id; returns the ids cut. */
export async function cutConnections(admin: Redis, connectionName: string): Promise<string[]> {
  const ids = await connectionIds(admin, connectionName);
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids;
}

/** Deletes every key under a test's prefix. */
export async function deleteKeys(admin: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await admin.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Polls `check` every 20 ms until it returns true or `ms` pass; returns its last answer. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
