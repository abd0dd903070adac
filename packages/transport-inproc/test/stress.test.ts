// The conformance suite four times over, its cases side by side: races between many transports and
// operations of one hub show here rather than in production.
import { describeTransport } from '@msg/conformance';
import { createInprocTransport, inprocCapabilities } from '../src/index.js';

describeTransport({
  name: 'inproc',
  capabilities: inprocCapabilities,
  connect: () => createInprocTransport({ hub: `stress-${process.pid}` }),
  stress: 4,
});
