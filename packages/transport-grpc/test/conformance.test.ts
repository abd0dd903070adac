import { describeTransport } from '@msg/conformance';
import { afterAll } from 'vitest';
import { type GrpcOptions, createGrpcTransport, grpcCapabilities } from '../src/index.js';

// One host for the whole run, started before any case; every peer of every case is a client of
// it, as services connect to one hosting node. The host's own use of every pattern is covered in
// host.test.ts.
const host = createGrpcTransport({ listen: '127.0.0.1:0' });
afterAll(async () => (await host).close());

const client = (options: Partial<GrpcOptions> = {}) => async () => createGrpcTransport({ connect: `grpc://${(await host).address}`, ...options });

describeTransport({ name: 'grpc', capabilities: grpcCapabilities, connect: client() });
// The same suite with every request sent as its own unary call instead of on the stream.
describeTransport({ name: 'grpc (unary requests)', capabilities: grpcCapabilities, connect: client({ unary: true }) });
