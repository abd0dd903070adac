// connect(url) picks an adapter by URL scheme. Adapters register themselves on import; the core
// depends on none of them. Many transports, of one adapter or several, live side by side, and every
// factory can also be used directly, without the registry.

import { InvalidArgumentError } from './errors.js';
import type { Transport } from './transport.js';

export interface TransportFactory<Options = Record<string, unknown>> {
  /** URL schemes it serves, without the colon: `nats`, `zmq+tcp`. */
  readonly schemes: readonly string[];
  connect(url: URL, options?: Options): Promise<Transport>;
}

export class Registry {
  #factories = new Map<string, TransportFactory<never>>();

  register(factory: TransportFactory<never>): void {
    for (const scheme of factory.schemes) this.#factories.set(scheme, factory);
  }

  get schemes(): string[] {
    return [...this.#factories.keys()].sort();
  }

  connect(url: string | URL, options?: Record<string, unknown>): Promise<Transport> {
    let parsed: URL;
    try {
      parsed = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return Promise.reject(new InvalidArgumentError(`"${String(url)}" is not a URL; write it as scheme://host, e.g. nats://127.0.0.1:4222`));
    }
    const scheme = parsed.protocol.replace(/:$/, '');
    const factory = this.#factories.get(scheme);
    if (!factory) {
      const known = this.schemes.length > 0 ? this.schemes.join(', ') : 'none';
      return Promise.reject(
        new InvalidArgumentError(`no transport is registered for "${scheme}://" (registered: ${known}); import its package, e.g. @msg/transport-${scheme.split('+')[0]}`),
      );
    }
    return (factory as TransportFactory<Record<string, unknown>>).connect(parsed, options);
  }
}

// One default registry per process, shared even by two installed copies of this package.
const key = Symbol.for('@msg/core.registry');
const holder = globalThis as { [key]?: Registry };
export const registry: Registry = (holder[key] ??= new Registry());

export function registerTransport(factory: TransportFactory<never>): void {
  registry.register(factory);
}

/** Connects with the adapter registered for the URL's scheme. */
export function connect(url: string | URL, options?: Record<string, unknown>): Promise<Transport> {
  return registry.connect(url, options);
}
