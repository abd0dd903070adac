// Transports kept apart as if each ran in a process of its own: each has a directory of its own and
// learns of the others only by discovery. For tests (the conformance suite runs this way) and for
// anyone who wants to see discovery at work inside one process.

import { ConnectionError, type Transport } from '@msg/core';
import { Directory, inSync } from './directory.js';

/**
 * Returns a `connect` that creates each transport on a fresh directory with `create`. What changes
 * what the others must learn (creating, `reply`, stopping a replier, `close`) resolves only once every
 * open transport of this `connect` has heard of it, within `timeoutMs`: the wait a user across
 * processes would make before counting on the others knowing.
 */
export function separateNodes(create: (directory: Directory) => Promise<Transport>, timeoutMs = 10_000): () => Promise<Transport> {
  const open: { directory: Directory; transport: Transport }[] = [];
  // Looked at afresh each time: transports made meanwhile (several at once) are waited for too.
  const directories = () => {
    for (let i = open.length - 1; i >= 0; i--) if (open[i]!.transport.closed) open.splice(i, 1);
    return open.map((o) => o.directory);
  };
  const settled = async () => {
    for (const end = Date.now() + timeoutMs; !inSync(directories()); ) {
      if (Date.now() > end) throw new ConnectionError(`discovery: ${open.length} transports did not learn of each other within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return async () => {
    const directory = new Directory();
    const transport = await create(directory);
    open.push({ directory, transport });
    try {
      await settled();
    } catch (error) {
      await transport.close();
      throw error;
    }
    const reply: Transport['reply'] = async (...args) => {
      const served = await transport.reply(...args);
      await settled();
      return {
        subject: served.subject,
        unsubscribe: async () => {
          await served.unsubscribe();
          await settled();
        },
      };
    };
    const close = async () => {
      await transport.close();
      await settled();
    };
    // Everything else is the transport's own, called on it (its private fields need it as `this`).
    return new Proxy(transport, {
      get(target, key) {
        if (key === 'reply') return reply;
        if (key === 'close') return close;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}
