// A plain Redis connection for the tests to look at and act on the server from outside the adapter.
// It touches only what the tests own: connections by the name a test gave them, keys by its prefix.

import type { Transport } from '@msg/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisTransportOptions, createRedisTransport } from '../src/index.js';

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

/**
 * One test file's setup: an admin connection, and transports under `prefix` that are closed, and
 * whose keys are deleted, after the file. Call it inside the file's describe.
 */
export function fixture(prefix: string): { readonly admin: Redis; transport(options?: RedisTransportOptions): Promise<Transport> } {
  let admin: Redis | undefined;
  const open: Transport[] = [];
  beforeAll(() => {
    admin = openAdmin();
  });
  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    if (!admin) return;
    await deleteKeys(admin, prefix);
    await admin.quit();
  });
  return {
    get admin() {
      if (!admin) throw new Error('the admin connection opens in beforeAll');
      return admin;
    },
    async transport(options = {}) {
      const t = await createRedisTransport({ host: HOST, port: PORT, prefix, ...options });
      open.push(t);
      return t;
    },
  };
}
