// survey, worker side: one surveyor and R respondents, each on its own connection; the time until all
// R answered, survey after survey.
import type { Job } from '../protocol.js';
import type { RoleContext } from '../role.js';
import { IntervalRecorder, encode } from '../histogram.js';
import { Payloads, Phase } from '../payload.js';
import { now } from '../pace.js';

export async function survey(ctx: RoleContext, job: Extract<Job, { role: 'survey' }>): Promise<Record<string, unknown>> {
  const options = { ...job, group: 'survey' };
  const surveyor = await ctx.open(job.driver, 'bind', undefined, options);
  const transport = surveyor.transport;
  if (!transport) throw new Error(`${job.driver} has no survey pattern`);
  for (let r = 0; r < job.respondents; r++) {
    const link = await ctx.open(job.driver, 'connect', surveyor.address, options);
    if (!link.transport) throw new Error(`${job.driver} has no survey pattern`);
    await link.transport.respond(job.topic, (question) => question.data);
  }
  ctx.post({ type: 'ready' });
  const { epochNs } = await ctx.next('go', 60_000);
  const data = new Payloads(job.size).next(Phase.Measured, 0, 0, 0);
  const warmEnd = now() + job.warmupMs * 1e6;
  const end = warmEnd + job.durationMs * 1e6;
  const latency = new IntervalRecorder(epochNs);
  let complete = 0;
  let incomplete = 0;
  let answers = 0;
  while (now() < end && !ctx.signal.aborted) {
    const t0 = now();
    const got = await transport.survey(job.topic, data, { deadline: job.deadlineMs, maxResponses: job.respondents }).toArray();
    const t1 = now();
    if (t0 < warmEnd) continue;
    answers += got.length;
    if (got.length === job.respondents) {
      complete++;
      latency.record(t1 - t0, t1);
    } else {
      incomplete++;
    }
    ctx.progress(complete);
  }
  return { complete, incomplete, answers, seconds: (now() - warmEnd) / 1e9, latency: encode(latency.total) };
}
