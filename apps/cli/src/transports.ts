// Which transport a --transport name means, and the URL it connects to by default. Each adapter is
// imported only when asked for, so one that cannot load does not stop the others.
import { connect, type Transport } from '@msg/core';
import { UsageError } from './exit.js';

interface Known {
  module: string;
  url?: string;
  /** Brokerless transports are given endpoints with --bind/--connect instead of a URL. */
  endpoints?: boolean;
}

export const TRANSPORTS: Record<string, Known> = {
  nats: { module: '@msg/transport-nats', url: 'nats://127.0.0.1:4222' },
  redis: { module: '@msg/transport-redis', url: 'redis://127.0.0.1:6379' },
  amqp: { module: '@msg/transport-amqp', url: 'amqp://guest:guest@127.0.0.1:5672' },
  kafka: { module: '@msg/transport-kafka', url: 'kafka://127.0.0.1:9092' },
  mqtt: { module: '@msg/transport-mqtt', url: 'mqtt://127.0.0.1:1883' },
  amqp1: { module: '@msg/transport-amqp1', url: 'amqp1://127.0.0.1:5673' },
  grpc: { module: '@msg/transport-grpc', url: 'grpc://127.0.0.1:50051' },
  zmq: { module: '@msg/transport-zmq', endpoints: true },
  nanomsg: { module: '@msg/transport-nanomsg', endpoints: true },
  inproc: { module: '@msg/transport-inproc', url: 'inproc://default' },
};

async function load(module: string): Promise<unknown> {
  try {
    return await import(module);
  } catch (cause) {
    throw new Error(`cannot load ${module} (${(cause as Error).message.split('\n')[0]}); build it with \`pnpm build\``, { cause });
  }
}

export interface ConnectOptions {
  transport: string;
  url?: string;
  bind?: string[];
  connect?: string[];
}

export async function open(options: ConnectOptions): Promise<Transport> {
  const known = TRANSPORTS[options.transport];
  if (!known) {
    throw new UsageError(`unknown transport "${options.transport}"; use one of ${Object.keys(TRANSPORTS).join(', ')}`);
  }
  if (known.endpoints && !options.url) {
    if (!options.bind?.length && !options.connect?.length) {
      throw new UsageError(`--transport ${options.transport} is brokerless: give --bind or --connect endpoints (e.g. --bind tcp://127.0.0.1:5555)`);
    }
    const { endpointsUrl } = (await load(known.module)) as { endpointsUrl?: (bind: string[], connect: string[]) => string };
    if (!endpointsUrl) throw new UsageError(`${known.module} does not accept --bind/--connect; give --url`);
    return connect(endpointsUrl(options.bind ?? [], options.connect ?? []));
  }
  await load(known.module);
  const url = options.url ?? known.url;
  if (!url) throw new UsageError(`give --url for --transport ${options.transport}`);
  return connect(url);
}
