import { describe, expect } from 'vitest';
import { type Context, caseIf, it, supports, trio } from './context.js';
import { Reader, str, uniqueName, utf8 } from './helpers.js';

export function busCases(ctx: Context): void {
  describe('bus', () => {
    const on = supports(ctx, 'bus');
    const why = 'does not declare bus';

    if (!on) {
      it('join rejects with UNSUPPORTED', async () => {
        const t = await ctx.peers.one();
        await expect(t.join(uniqueName('bus'))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      });
    }

    caseIf(ctx, on, "3 members: each message reaches the 2 others exactly once, never its sender", why, async () => {
      const group = uniqueName('bus');
      const members = await Promise.all((await trio(ctx)).map((t) => t.join(group)));
      const readers = members.map((member) => new Reader(member));
      for (const [i, member] of members.entries()) await member.send(utf8(`from${i}`));
      for (const [i, reader] of readers.entries()) {
        const got = (await reader.take(2, ctx.settle * 20)).map((m) => str(m.data)).sort();
        expect(got).toEqual([0, 1, 2].filter((j) => j !== i).map((j) => `from${j}`));
        expect(await reader.next(ctx.settle)).toBeUndefined();
      }
    });

    caseIf(ctx, on, 'a member that leaves receives nothing more', why, async () => {
      const group = uniqueName('bus');
      const [a, b, c] = await Promise.all((await trio(ctx)).map((t) => t.join(group)));
      const leaving = new Reader(a!);
      const staying = new Reader(c!);
      await a!.leave();
      await b!.send(utf8('after leave'));
      expect((await staying.take(1, ctx.settle * 20)).map((m) => str(m.data))).toEqual(['after leave']);
      expect(await leaving.ends(ctx.settle)).toBe(true);
      await expect(a!.send(utf8('x'))).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
}
