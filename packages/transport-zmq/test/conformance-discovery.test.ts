import { describeTransport, freePort } from '@msg/conformance';
import { separateNodes } from '@msg/discovery';
import { createZmqTransport, zmqCapabilities } from '../src/index.js';

// Every peer on a directory of its own, as if in a process of its own: they meet only by UDP
// discovery (multicast on loopback, on a port of this run, under a secret of this run).
const discovery = { via: 'udp' as const, beacon: { port: await freePort() }, secret: `conformance-${process.pid}`, intervalMs: 100 };
describeTransport({ name: 'zmq+discovery', capabilities: zmqCapabilities, connect: separateNodes((directory) => createZmqTransport({ directory, discovery })) });
