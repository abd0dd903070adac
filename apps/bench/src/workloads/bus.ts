// bus, worker side: M members, each on its own connection, all sending at once; every member should
// receive every other member's messages exactly once.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { BusMember } from '@msg/core';
import type { Job } from '../protocol.js';
import type { RoleContext } from '../role.js';
import { IntervalRecorder, encode } from '../histogram.js';
import { Payloads, Phase, readStamp } from '../payload.js';
import { Window, now } from '../pace.js';

export async function bus(ctx: RoleContext, job: Extract<Job, { role: 'bus' }>): Promise<Record<string, unknown>> {
  const options = { ...job, group: 'bus' };
  const first = await ctx.open(job.driver, 'bind', undefined, options);
  const links = [first];
  for (let m = 1; m < job.members; m++) links.push(await ctx.open(job.driver, 'connect', first.address, options));
  const members: BusMember[] = [];
  for (const link of links) {
    if (!link.transport) throw new Error(`${job.driver} has no bus pattern`);
    const member = await link.transport.join(job.group);
    ctx.defer(() => member.leave());
    members.push(member);
  }
  ctx.post({ type: 'ready' });
  const { epochNs } = await ctx.next('go', 60_000);

  const perMember = Math.max(1, Math.floor(job.messages / job.members));
  const expected = perMember * job.members * (job.members - 1);
  const latency = new IntervalRecorder(epochNs);
  let delivered = 0;
  let lastNs = 0;
  // One bit per (receiver, sender, seq) to count duplicates.
  const seen = new Uint8Array(Math.ceil((job.members * job.members * perMember) / 8));
  let duplicated = 0;

  const startNs = now();
  const receiving = members.map(async (member, receiver) => {
    for await (const message of member) {
      const t = now();
      const s = readStamp(message.data);
      if (!s || s.phase !== Phase.Measured) continue;
      const sender = s.seq % job.members;
      const bit = (receiver * job.members + sender) * perMember + Math.floor(s.seq / job.members);
      if (seen[bit >> 3]! & (1 << (bit & 7))) {
        duplicated++;
        continue;
      }
      seen[bit >> 3]! |= 1 << (bit & 7);
      delivered++;
      lastNs = t;
      latency.record(t - s.sentNs, t);
      ctx.progress(delivered);
    }
  });
  // A member's receive loop ends with an error when it leaves early; what it got is counted already.
  void Promise.all(receiving).catch(() => undefined);

  const endBy = startNs + job.timeLimitMs * 1e6;
  const payloads = new Payloads(job.size);
  let sent = 0;
  await Promise.all(
    members.map(async (member, m) => {
      const window = new Window(256);
      for (let i = 0; i < perMember && !ctx.signal.aborted && now() < endBy; i++) {
        const t = now();
        // seq encodes the sender: seq = i × M + m.
        const full = window.add(member.send(payloads.next(Phase.Measured, i * job.members + m, t, t)));
        if (full) await full;
        sent++;
        if ((i & 127) === 127) await yieldToLoop();
      }
      await window.drain();
    }),
  );
  const giveUp = now() + Math.max(job.settleMs * 4, 5_000) * 1e6;
  let lastCount = -1;
  let quietSince = now();
  while (delivered < expected && now() < giveUp && !ctx.signal.aborted) {
    if (delivered !== lastCount) {
      lastCount = delivered;
      quietSince = now();
    } else if (now() - quietSince > job.settleMs * 1e6) {
      break;
    }
    await sleep(10);
  }
  return { sent, expected, delivered, lost: expected - delivered, duplicated, seconds: ((lastNs || now()) - startNs) / 1e9, latency: encode(latency.total) };
}
