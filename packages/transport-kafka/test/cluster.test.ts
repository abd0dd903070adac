// On a three-broker KRaft cluster (scripts/cluster up kafka, each broker on its own 127.0.0.x):
// the suite with topics of three replicas and min.insync.replicas 2, then the leader of a topic's
// partition killed under load: every publish that resolved (acks=all) is consumed, and the consumer
// goes on with the new leader.

import { PublishLoad, Received, checkCluster, clusters, describeTransport, killNode, restoreCluster, until, utf8 } from '@msg/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { type KafkaOptions, createKafkaTransport, kafkaReplicatedCapabilities } from '../src/index.js';

const skip = await checkCluster('kafka');
const nodes = clusters.kafka;
const brokers = nodes.map(({ host, port }) => `${host}:${port}`);
const replicated: KafkaOptions = { brokers, replicationFactor: 3, minInsyncReplicas: 2 };

// The whole suite on the cluster passes on its own, but beside the rest of a CI run on two cores its
// timing-bound cases (a survey's deadline, a request's 5 s timeout) miss on three brokers now and
// then; it runs when asked for, and the failover case below runs always.
const wholeSuite = process.env.MSG_KAFKA_CLUSTER_SUITE === '1';
describeTransport({
  name: 'kafka cluster (3 replicas, min.insync.replicas 2)',
  capabilities: kafkaReplicatedCapabilities,
  skip: skip ?? (wholeSuite ? undefined : 'the whole suite on the Kafka cluster runs with MSG_KAFKA_CLUSTER_SUITE=1 (its timing-bound cases miss now and then beside the rest of CI on two cores)'),
  connect: () => createKafkaTransport(replicated),
});

describe.skipIf(skip)('kafka cluster: the partition leader is killed under load', () => {
  afterAll(() => restoreCluster('kafka', 150_000), 160_000);

  it('nothing whose publish resolved is lost, and the consumer moves on to the new leader', async () => {
    // One partition, so that one broker leads everything the test publishes.
    const options = { ...replicated, partitions: 1 };
    const publisher = await createKafkaTransport(options);
    const consumer = await createKafkaTransport(options);
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    const topic = `cluster.failover.${process.pid}.${Date.now()}`;
    try {
      const received = new Received();
      await consumer.subscribe(topic, { durable: 'failover', handler: received.handler });
      await admin.connect();
      const [partition] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
      expect(partition!.replicas).toHaveLength(3);
      const leader = nodes[partition!.leader - 1]!; // node.id n listens on the nth address
      await admin.disconnect();

      // Bounded: 3,000 messages, 20 publishes in flight, for at most two minutes.
      const load = new PublishLoad({ publish: (key) => publisher.publish(topic, utf8(key)), total: 3000 });
      expect(await until(() => load.resolved.size >= 500, 30_000)).toBe(true);
      await killNode('kafka', leader);
      const atKill = load.resolved.size;
      await load.done;

      const lost = await received.drained(load);
      console.info(`kafka cluster, leader ${leader.host} killed: ${load.summary()}, ${load.resolved.size - atKill} resolved after the kill; ${received.summary(load)}`);
      expect(lost).toEqual([]);
      // Publishing and consuming went on with two of three replicas, through the new leader.
      expect(load.resolved.size - atKill).toBeGreaterThan(0);
    } finally {
      await Promise.all([publisher.close(), consumer.close()]);
    }
  }, 240_000);
});
