import { describeTransport } from '@msg/conformance';
import { Directory, createNanomsgTransport, nanomsgCapabilities } from '../src/index.js';

// Every peer of the run shares one directory, as the transports of one application would.
const directory = new Directory();
describeTransport({ name: 'nanomsg', capabilities: nanomsgCapabilities, connect: () => createNanomsgTransport({ directory }) });
