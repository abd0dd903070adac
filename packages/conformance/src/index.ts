// The conformance suite: every adapter, ours or a third party's, runs it against its real backend.
// Cases run for every transport; a case that a transport's declared capabilities exclude shows as
// skipped with the reason, and the opposite claim is checked instead (e.g. UNSUPPORTED is thrown).

import type { Capabilities, Transport } from '@msg/core';
import { describe, expect } from 'vitest';
import { ackCases } from './acks.js';
import { busCases } from './bus.js';
import { type Context, it } from './context.js';
import { Peers } from './helpers.js';
import { hookCases } from './hooks.js';
import { lifecycleCases } from './lifecycle.js';
import { limitCases } from './limits.js';
import { loadCases } from './load.js';
import { pubsubCases } from './pubsub.js';
import { reqrepCases } from './reqrep.js';
import { surveyCases } from './survey.js';

export interface TransportUnderTest {
  /** Shown first in every case's name: `<name> > <pattern> > <case>`. */
  name: string;
  /** What the adapter declares; the suite holds it to exactly this. */
  capabilities: Capabilities;
  /** A new transport on the same backend at each call: cases talk between several of them. */
  connect: () => Promise<Transport>;
  /** When set, the whole suite shows as skipped with this reason (see checkBroker). */
  skip?: string | undefined;
  /**
   * Stress mode: the suite this many times over, its cases run side by side (vitest's
   * maxConcurrency at a time), to shake out races between operations of many transports. Also
   * MSG_STRESS=<n> in the environment. Default 1.
   */
  stress?: number;
}

export function describeTransport(target: TransportUnderTest): void {
  if (target.skip) {
    describe.skip(`${target.name} [SKIPPED: ${target.skip}]`, () => {
      it('conformance', () => undefined);
    });
    return;
  }
  const copies = target.stress ?? (Number(process.env.MSG_STRESS) || 1);
  if (copies <= 1) {
    describe(target.name, () => suite(target, false));
    return;
  }
  for (let copy = 1; copy <= copies; copy++) {
    describe.concurrent(`${target.name} [stress ${copy}/${copies}]`, () => suite(target, true));
  }
}

function suite(target: TransportUnderTest, stressed: boolean): void {
  {
    const caps = target.capabilities;
    const caseTimeout = Math.max(15_000, caps.timing.surveyDeadlineMs * 30, caps.timing.settleMs * 100);
    const ctx: Context = {
      name: target.name,
      capabilities: caps,
      peers: new Peers(target.connect, caseTimeout),
      settle: caps.timing.settleMs,
      deadline: caps.timing.surveyDeadlineMs,
      caseTimeout,
      stressed,
      margin: stressed ? 5000 : 1000,
    };

    it('reports the capabilities it declares', async () => {
      const t = await ctx.peers.one();
      expect(t.capabilities).toEqual(caps);
      expect(t.closed).toBe(false);
    });

    reqrepCases(ctx);
    pubsubCases(ctx);
    ackCases(ctx);
    surveyCases(ctx);
    busCases(ctx);
    limitCases(ctx);
    lifecycleCases(ctx);
    loadCases(ctx);
    hookCases(ctx);
  }
}

export { type BrokerLimitUnderTest, brokerLimitCases } from './broker-limit.js';
export { type ClusterName, type ClusterNode, checkCluster, clusters, killNode, restoreCluster } from './cluster.js';
export { Reader, StatusLog, checkBroker, everythingShown, freePort, reachable, sleep, str, uniqueName, utf8 } from './helpers.js';
export { type FaultHooks, type FaultsUnderTest, describeFaults } from './faults.js';
export { PublishLoad, type PublishLoadOptions, Received, until } from './failover.js';
