// A network of test hosts: each a network namespace with an address of its own (10.<net>.0.<n>/24),
// wired by a veth pair into a bridge that sits in a namespace of its own too, so nothing of it is
// in the host's own network. Cutting a host takes its link to the bridge down: its packets vanish,
// with no reset, as when a cable is pulled or a switch port dies. Every name carries the run's process
// id (base 36), so runs side by side keep apart; what a run whose process is gone left is removed
// first. Needs root and iproute2.

import { execFileSync } from 'node:child_process';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

const alive = (run: string) => {
  try {
    process.kill(Number.parseInt(run, 36), 0);
    return true;
  } catch {
    return false;
  }
};

export class TestNetwork {
  readonly #run = process.pid.toString(36);
  readonly #prefix: string;
  readonly #short: string;
  readonly #net: number;
  readonly hosts: readonly string[];

  /**
   * `prefix` names the namespaces (`<prefix><run>-<host>`), `short` (two letters) the veths, which
   * Linux allows 15 characters; `hosts` are one letter each, the nth at 10.<net>.0.<n+1>.
   */
  constructor(prefix: string, short: string, net: number, hosts: readonly string[]) {
    this.#prefix = prefix;
    this.#short = short;
    this.#net = net;
    this.hosts = hosts;
  }

  namespace(host: string): string {
    return `${this.#prefix}${this.#run}-${host}`;
  }

  address(host: string): string {
    return `10.${this.#net}.0.${this.hosts.indexOf(host) + 1}`;
  }

  /** The command prefix that runs a program on `host`. */
  on(host: string): string[] {
    return ['ip', 'netns', 'exec', this.namespace(host)];
  }

  /** Creates the network, after removing what dead runs left; says why it cannot, or undefined. */
  create(): string | undefined {
    try {
      this.#remove((run) => run === this.#run || !alive(run));
      this.#build();
      return undefined;
    } catch (error) {
      try {
        this.remove();
      } catch {
        // Nothing could be created either.
      }
      return `cannot create network namespaces (${(error as Error).message.split('\n')[0]}); run as root with iproute2`;
    }
  }

  /** Removes every namespace of this run, and with them every veth and the bridge. */
  remove(): void {
    this.#remove((run) => run === this.#run);
  }

  /** Cuts `host` off from every other host: its link to the bridge goes down. */
  cut(host: string): void {
    ip('-n', this.namespace('sw'), 'link', 'set', this.#veth('v', host), 'down');
  }

  heal(host: string): void {
    ip('-n', this.namespace('sw'), 'link', 'set', this.#veth('v', host), 'up');
  }

  #veth(side: 'v' | 'p', host: string): string {
    return `${this.#short}${this.#run}${side}${host}`;
  }

  #build(): void {
    const sw = this.namespace('sw');
    ip('netns', 'add', sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (const host of this.hosts) {
      const ns = this.namespace(host);
      ip('netns', 'add', ns);
      ip('link', 'add', this.#veth('v', host), 'type', 'veth', 'peer', 'name', this.#veth('p', host));
      ip('link', 'set', this.#veth('v', host), 'netns', sw);
      ip('link', 'set', this.#veth('p', host), 'netns', ns);
      ip('-n', sw, 'link', 'set', this.#veth('v', host), 'master', 'br0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${this.address(host)}/24`, 'dev', this.#veth('p', host));
      ip('-n', ns, 'link', 'set', this.#veth('p', host), 'up');
    }
  }

  #remove(shouldGo: (run: string) => boolean): void {
    for (const name of ip('netns', 'list').split('\n').map((line) => line.split(' ')[0] ?? '')) {
      const run = new RegExp(`^${this.#prefix}([0-9a-z]+)-`).exec(name)?.[1];
      if (run !== undefined && shouldGo(run)) ip('netns', 'delete', name);
    }
    // A veth whose ends were never moved into a namespace would stay in this one.
    const own = new RegExp(`^${this.#short}([0-9a-z]+)[vp][a-z]$`);
    for (const line of ip('-o', 'link', 'show').split('\n')) {
      const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
      const run = name && own.exec(name)?.[1];
      // Deleting one end of a veth deletes the other: it may be gone already.
      if (name && run && shouldGo(run) && ip('-o', 'link', 'show').includes(`: ${name}`)) ip('link', 'delete', name);
    }
  }
}

/** Creates `network`; a network that cannot be made fails the run under MSG_REQUIRE_BROKERS=1, else is a loud skip. */
export function createOrSkip(network: TestNetwork, what: string): string | undefined {
  const why = network.create();
  if (why && process.env.MSG_REQUIRE_BROKERS === '1') throw new Error(`${why} (MSG_REQUIRE_BROKERS=1, so this is a failure)`);
  if (why) console.warn(`\n*** SKIPPING ${what}: ${why} ***\n`);
  return why;
}
