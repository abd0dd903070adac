// Which transport a --transport name means, and the URL it connects to by default. Each adapter is
// imported only when asked for, so one that cannot load does not stop the others.
import { connect, type Transport } from '@msg/core';
import { UsageError } from './exit.js';

interface Known {
  module: string;
  url?: string;
  /** Brokerless transports find their peers by discovery, or are given endpoints with --bind/--connect. */
  brokerless?: boolean;
}

export const TRANSPORTS: Record<string, Known> = {
  nats: { module: '@msg/transport-nats', url: 'nats://127.0.0.1:4222' },
  redis: { module: '@msg/transport-redis', url: 'redis://127.0.0.1:6379' },
  amqp: { module: '@msg/transport-amqp', url: 'amqp://guest:guest@127.0.0.1:5672' },
  kafka: { module: '@msg/transport-kafka', url: 'kafka://127.0.0.1:9092' },
  mqtt: { module: '@msg/transport-mqtt', url: 'mqtt://127.0.0.1:1883' },
  amqp1: { module: '@msg/transport-amqp1', url: 'amqp1://127.0.0.1:5673' },
  grpc: { module: '@msg/transport-grpc', url: 'grpc://127.0.0.1:50051' },
  zmq: { module: '@msg/transport-zmq', brokerless: true },
  nanomsg: { module: '@msg/transport-nanomsg', brokerless: true },
  inproc: { module: '@msg/transport-inproc', url: 'inproc://default' },
};

async function load(module: string): Promise<unknown> {
  try {
    return await import(module);
  } catch (cause) {
    throw new Error(`cannot load ${module} (${(cause as Error).message.split('\n')[0]}); build it with \`pnpm build\``, { cause });
  }
}

/** The pattern a verb's --bind endpoints serve, so that they are bound before the first message. */
export type Pattern = 'reply' | 'publish' | 'survey' | 'bus';

export interface ConnectOptions {
  transport: string;
  url?: string;
  bind?: string[];
  connect?: string[];
  pattern?: Pattern;
  /** Brokerless: `udp` (default without endpoints), `udp://GROUP:PORT`, or discovery nodes `EP,EP`. */
  discovery?: string;
}

/**
 * The discovery URL parameters for `--discovery` (see the adapters' `discovery=`). The secret comes
 * from MSG_DISCOVERY_SECRET, never from the command line, where other users of the host could read it.
 */
function discoveryParams(discovery: string): string {
  const params = new URLSearchParams();
  const beacon = /^udp:\/\/([^/]+)$/.exec(discovery);
  if (beacon) {
    params.set('discovery', 'udp');
    params.set('beacon', beacon[1] as string);
  } else params.set('discovery', discovery);
  const secret = process.env.MSG_DISCOVERY_SECRET;
  if (secret) params.set('secret', secret);
  return params.toString();
}

export async function open(options: ConnectOptions): Promise<Transport> {
  const known = TRANSPORTS[options.transport];
  if (!known) {
    throw new UsageError(`unknown transport "${options.transport}"; use one of ${Object.keys(TRANSPORTS).join(', ')}`);
  }
  if (known.brokerless && !options.url) {
    const { endpointsUrl } = (await load(known.module)) as { endpointsUrl?: (bind: string[], connect: string[], pattern?: Pattern) => string };
    if (!endpointsUrl) throw new UsageError(`${known.module} does not accept --bind/--connect; give --url`);
    const given = Boolean(options.bind?.length || options.connect?.length);
    if (!given) return connect(`${options.transport}+tcp://127.0.0.1?${discoveryParams(options.discovery ?? 'udp')}`);
    const url = endpointsUrl(options.bind ?? [], options.connect ?? [], options.bind?.length ? options.pattern : undefined);
    return connect(options.discovery ? `${url}&${discoveryParams(options.discovery)}` : url);
  }
  await load(known.module);
  const url = options.url ?? known.url;
  if (!url) throw new UsageError(`give --url for --transport ${options.transport}`);
  return connect(url);
}
