// The conformance suite: every adapter, ours or a third party's, runs it against its real backend.
// Cases run for every transport; a case that a transport's declared capabilities exclude shows as
// skipped with the reason, and the opposite claim is checked instead (e.g. UNSUPPORTED is thrown).

import type { Capabilities, Transport } from '@msg/core';
import { afterEach, describe, expect, it } from 'vitest';
import { busCases } from './bus.js';
import type { Context } from './context.js';
import { Peers } from './helpers.js';
import { lifecycleCases } from './lifecycle.js';
import { limitCases } from './limits.js';
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
}

export function describeTransport(target: TransportUnderTest): void {
  if (target.skip) {
    describe.skip(`${target.name} [SKIPPED: ${target.skip}]`, () => {
      it('conformance', () => undefined);
    });
    return;
  }
  describe(target.name, () => {
    const caps = target.capabilities;
    const ctx: Context = {
      name: target.name,
      capabilities: caps,
      peers: new Peers(target.connect),
      settle: caps.timing.settleMs,
      deadline: caps.timing.surveyDeadlineMs,
      caseTimeout: Math.max(15_000, caps.timing.surveyDeadlineMs * 30, caps.timing.settleMs * 100),
    };
    afterEach(() => ctx.peers.closeAll(), ctx.caseTimeout);

    it('reports the capabilities it declares', async () => {
      const t = await ctx.peers.one();
      expect(t.capabilities).toEqual(caps);
      expect(t.closed).toBe(false);
    });

    reqrepCases(ctx);
    pubsubCases(ctx);
    surveyCases(ctx);
    busCases(ctx);
    limitCases(ctx);
    lifecycleCases(ctx);
  });
}

export { type ClusterName, type ClusterNode, checkCluster, clusters, killNode, restoreCluster } from './cluster.js';
export { Reader, StatusLog, checkBroker, freePort, reachable, sleep, str, uniqueName, utf8 } from './helpers.js';
