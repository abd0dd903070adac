import { describe, expect } from 'vitest';
import { type Context, caseIf, it, supports } from './context.js';
import { sleep, str, uniqueName, utf8 } from './helpers.js';

export function surveyCases(ctx: Context): void {
  describe('survey', () => {
    const on = supports(ctx, 'survey');
    const why = 'does not declare survey';
    const deadline = ctx.deadline;

    if (!on) {
      it('survey and respond reject with UNSUPPORTED', async () => {
        const t = await ctx.peers.one();
        await expect(t.survey(uniqueName('sv'), utf8('?'), { deadline: 100 }).toArray()).rejects.toMatchObject({ code: 'UNSUPPORTED' });
        await expect(t.respond(uniqueName('sv'), () => utf8('x'))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    caseIf(ctx, on, '3 respondents: 3 answers by the deadline', why, async () => {
      const [r1, r2, r3] = await ctx.peers.many(3);
      const surveyor = await ctx.peers.one();
      const topic = uniqueName('sv');
      for (const [i, r] of [r1, r2, r3].entries()) await r?.respond(topic, (q) => utf8(`${str(q.data)}:${i}`));
      const answers = await surveyor.survey(topic, utf8('count'), { deadline }).toArray();
      expect(answers.map((a) => str(a.data)).sort()).toEqual(['count:0', 'count:1', 'count:2']);
    });

    caseIf(ctx, on, '0 respondents: ends empty at the deadline', why, async () => {
      const surveyor = await ctx.peers.one();
      const short = Math.min(deadline, 500);
      const started = performance.now();
      const answers = await surveyor.survey(uniqueName('sv'), utf8('anyone?'), { deadline: short }).toArray();
      const elapsed = performance.now() - started;
      expect(answers).toEqual([]);
      expect(elapsed).toBeGreaterThanOrEqual(short - 5);
      expect(elapsed).toBeLessThan(short + ctx.margin);
    });

    caseIf(ctx, on, 'a respondent slower than the deadline is excluded', why, async () => {
      const [fast1, fast2, slow] = await ctx.peers.many(3);
      const surveyor = await ctx.peers.one();
      const topic = uniqueName('sv');
      await fast1?.respond(topic, () => utf8('fast'));
      await fast2?.respond(topic, () => utf8('fast'));
      await slow?.respond(topic, async () => {
        await sleep(deadline * 2);
        return utf8('slow');
      });
      const answers = await surveyor.survey(topic, utf8('?'), { deadline }).toArray();
      expect(answers.map((a) => str(a.data))).toEqual(['fast', 'fast']);
    });

    caseIf(ctx, on, 'maxResponses ends the survey early', why, async () => {
      const [r1, r2, r3] = await ctx.peers.many(3);
      const surveyor = await ctx.peers.one();
      const topic = uniqueName('sv');
      for (const r of [r1, r2, r3]) await r?.respond(topic, () => utf8('yes'));
      const long = deadline * 10;
      const started = performance.now();
      const answers = await surveyor.survey(topic, utf8('?'), { deadline: long, maxResponses: 2 }).toArray();
      expect(answers.length).toBe(2);
      expect(performance.now() - started).toBeLessThan(long);
    });

    caseIf(ctx, on, 'answers are yielded as they arrive, before the deadline', why, async () => {
      const responder = await ctx.peers.one();
      const surveyor = await ctx.peers.one();
      const topic = uniqueName('sv');
      await responder.respond(topic, () => utf8('early'));
      const long = deadline * 10;
      const started = performance.now();
      for await (const answer of surveyor.survey(topic, utf8('?'), { deadline: long })) {
        expect(str(answer.data)).toBe('early');
        break;
      }
      expect(performance.now() - started).toBeLessThan(long);
    });
  });
}
