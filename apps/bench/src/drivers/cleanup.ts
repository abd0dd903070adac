// What a run leaves on a shared broker, removed when its binding side closes: a JetStream stream of
// its own, Redis keys under its own prefix. Bounded in time; a failure here never fails a result.
import { withTimeout } from './timeout.js';

export async function deleteStream(stream: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: '127.0.0.1:4222', maxReconnectAttempts: 0 });
  try {
    const jsm = await jetstreamManager(nc);
    // A stream left behind is the broker's to age out (max_age): the run's figures do not depend on it.
    await withTimeout(jsm.streams.delete(stream), 5_000, `deleting stream ${stream}`).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/** Kafka: every topic whose name holds the run's id (the adapter's request topics, the baseline's topic). */
export async function deleteKafkaTopics(runId: string): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: 'msg-bench-cleanup', brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
  try {
    await withTimeout(admin.connect(), 5_000, 'kafka admin');
    const topics = (await withTimeout(admin.listTopics(), 5_000, 'listing topics')).filter((t) => t.includes(runId));
    if (topics.length) await withTimeout(admin.deleteTopics({ topics, timeout: 5_000 }), 6_000, 'deleting topics');
  } catch {
    // Left for the broker's retention.
  } finally {
    // The admin client's own disconnect failing leaves nothing open that the process exit does not end.
    await admin.disconnect().catch(() => undefined);
  }
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const deadline = Date.now() + 5_000;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0' && Date.now() < deadline);
  } catch {
    // The broker went away: its keys expire by themselves (keyExpiryMs).
  } finally {
    redis.disconnect();
  }
}
