import { describeTransport } from '@msg/conformance';
import { createZmqTransport, Directory, zmqCapabilities } from '../src/index.js';

// Every transport of one run shares one directory, as the peers of one network do.
const directory = new Directory();
describeTransport({ name: 'zmq', capabilities: zmqCapabilities, connect: () => createZmqTransport({ directory }) });
