import { checkBroker, describeTransport } from '@msg/conformance';
import { createKafkaTransport, kafkaCapabilities } from '../src/index.js';

describeTransport({
  name: 'kafka',
  capabilities: kafkaCapabilities,
  connect: () => createKafkaTransport({ brokers: ['127.0.0.1:9092'] }),
  skip: await checkBroker('Kafka', '127.0.0.1', 9092),
});
