// A peer, not a baseline: what a user would pick instead of msg. Moleculer over the same NATS and
// Redis, request/reply only: each link is one ServiceBroker (one node, one transporter connection),
// the server's node hosts a service whose action returns its params' payload, and a client awaits
// broker.call(). Bytes travel as a base64 string in the params of Moleculer's JSON packets, as a user
// sending a Buffer through Moleculer would encode them (see the bench README).
import { randomBytes } from 'node:crypto';
import { type Context, ServiceBroker } from 'moleculer';
import type { Driver, Link, LinkOptions } from './driver.js';

export type MoleculerBroker = 'nats' | 'redis';

const URLS: Record<MoleculerBroker, string> = { nats: 'nats://127.0.0.1:4222', redis: 'redis://127.0.0.1:6379' };

let nodes = 0;
/** How often waitForServices looks (Moleculer's default is 1 s, which would idle the warm-up). */
const DISCOVERY_POLL_MS = 20;

/** A broker on the run's own namespace, so that a shared server never mixes two runs' nodes. */
async function startBroker(broker: MoleculerBroker, runId: string): Promise<ServiceBroker> {
  const node = new ServiceBroker({
    namespace: `bench-${runId}`,
    nodeID: `bench-${process.pid}-${nodes++}-${randomBytes(2).toString('hex')}`,
    transporter: URLS[broker],
    logger: false,
    // The bench's worker decides when it stops, not a signal handler of each broker.
    skipProcessEventRegistration: true,
  });
  await node.start();
  return node;
}

/** `bench.<run>.echo` as a Moleculer service name: dots separate a service from its action. */
const serviceName = (service: string) => service.replace(/\./g, '-');

interface Echo {
  data: string;
}

class MoleculerLink implements Link {
  readonly #broker: MoleculerBroker;
  readonly #runId: string;
  readonly #nodes: ServiceBroker[];
  /** Resolves once this node has discovered the service it calls. */
  readonly #discovered = new Map<string, Promise<void>>();

  constructor(broker: MoleculerBroker, runId: string, node: ServiceBroker) {
    this.#broker = broker;
    this.#runId = runId;
    this.#nodes = [node];
  }

  publish(): never {
    throw new Error(`moleculer-${this.#broker}: request/reply only, no pubsub`);
  }

  subscribe(): Promise<void> {
    return Promise.reject(new Error(`moleculer-${this.#broker}: request/reply only, no pubsub`));
  }

  /** One node per worker: Moleculer balances the calls over the nodes that host the service. */
  async serve(service: string, workers: number): Promise<void> {
    for (let i = 1; i < workers; i++) this.#nodes.push(await startBroker(this.#broker, this.#runId));
    for (const node of this.#nodes) {
      node.createService({ name: serviceName(service), actions: { echo: (ctx: Context<Echo>) => ctx.params.data } });
      await node.waitForServices(serviceName(service), 10_000, DISCOVERY_POLL_MS);
    }
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const node = this.#nodes[0]!;
    const name = serviceName(service);
    let discovered = this.#discovered.get(name);
    if (!discovered) {
      discovered = node.waitForServices(name, timeoutMs, DISCOVERY_POLL_MS);
      this.#discovered.set(name, discovered);
      // Not found in time: the next request looks again.
      discovered.catch(() => this.#discovered.delete(name));
    }
    await discovered;
    const params: Echo = { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
    return Buffer.from(await node.call<string, Echo>(`${name}.echo`, params, { timeout: timeoutMs }), 'base64');
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#nodes.splice(0).map((node) => node.stop()));
  }
}

export const moleculerDriver = (broker: MoleculerBroker): Driver => ({
  open: async (_mode, _address, options: LinkOptions) => new MoleculerLink(broker, options.runId, await startBroker(broker, options.runId)),
});
