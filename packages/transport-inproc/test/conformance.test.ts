import { describeTransport } from '@msg/conformance';
import { createInprocTransport, inprocCapabilities } from '../src/index.js';

// Every transport of one run shares a fresh hub, as peers on one network.
const hub = `conformance-${process.pid}`;
describeTransport({ name: 'inproc', capabilities: inprocCapabilities, connect: () => createInprocTransport({ hub }) });
