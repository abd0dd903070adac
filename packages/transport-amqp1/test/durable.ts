// Removes a durable subscription that a test or an example left on the shared broker, as a native
// client does: attach to it (its container id and link name are the durable name), then close the
// link, which ActiveMQ takes as unsubscribe.

import rhea from 'rhea';
import { DEFAULT_TOPIC_PREFIX } from '../src/index.js';

export async function removeDurable(name: string, topic: string, port = 5673): Promise<void> {
  const connection = rhea.create_container({ id: name }).connect({ host: '127.0.0.1', port, username: 'anonymous', reconnect: false });
  try {
    const receiver = connection.open_receiver({ name, source: { address: `topic://${DEFAULT_TOPIC_PREFIX}${topic}`, durable: 2, expiry_policy: 'never' }, credit_window: 0 });
    await new Promise<void>((resolve, reject) => {
      receiver.once('receiver_open', () => {
        receiver.once('receiver_close', () => resolve());
        receiver.close();
      });
      receiver.once('receiver_error', () => reject(new Error(`could not attach to the durable subscription ${name}`)));
      connection.once('disconnected', () => reject(new Error('the broker closed the connection')));
    });
  } finally {
    await new Promise<void>((resolve) => {
      connection.once('connection_close', () => resolve());
      connection.once('disconnected', () => resolve());
      connection.close();
    });
  }
}
