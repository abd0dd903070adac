import { describe, expect, it } from 'vitest';
import { Deadlines } from '../src/call.js';
import { ERROR_HEADER, type Message, isMsgError } from '../src/index.js';

const m = (id: string, headers: Record<string, string> = {}): Message => ({ id, subject: 'svc', data: new Uint8Array(0), headers });

/** A call with its outcome as a promise that never rejects. */
function start(deadlines: Deadlines, id: string, timeout: number) {
  let outcome!: Promise<{ reply?: Message; error?: unknown }>;
  const call = (() => {
    let made!: ReturnType<Deadlines['start']>;
    outcome = new Promise((resolve) => {
      made = deadlines.start(m(id), timeout, (reply) => resolve({ reply }), (error) => resolve({ error }));
    });
    return made;
  })();
  return { call, outcome };
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('Deadlines', () => {
  it('fails each request with TIMEOUT at its own deadline, oldest first, and tells the backend', async () => {
    const deadlines = new Deadlines();
    const cancelled: string[] = [];
    const a = start(deadlines, 'a', 30);
    a.call.onCancel(() => cancelled.push('a'));
    await new Promise((resolve) => setTimeout(resolve, 15));
    const b = start(deadlines, 'b', 30);
    b.call.onCancel(() => cancelled.push('b'));
    const first = await Promise.race([a.outcome.then(() => 'a'), b.outcome.then(() => 'b')]);
    expect(first).toBe('a');
    expect(isMsgError((await a.outcome).error, 'TIMEOUT')).toBe(true);
    expect(isMsgError((await b.outcome).error, 'TIMEOUT')).toBe(true);
    expect(cancelled).toEqual(['a', 'b']);
  });

  it('a resolved request is not cancelled, and a reply after the end is ignored', async () => {
    const deadlines = new Deadlines();
    const a = start(deadlines, 'a', 20);
    let cancelled = false;
    a.call.onCancel(() => (cancelled = true));
    a.call.resolve(m('a'));
    a.call.resolve(m('late'));
    a.call.reject(new Error('late too'));
    expect((await a.outcome).reply?.id).toBe('a');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(cancelled).toBe(false);
  });

  it('an error reply becomes RemoteError with the handler message', async () => {
    const deadlines = new Deadlines();
    const a = start(deadlines, 'a', 1000);
    a.call.resolve(m('a', { [ERROR_HEADER]: 'out of stock' }));
    const { error } = await a.outcome;
    expect(isMsgError(error, 'REMOTE')).toBe(true);
    expect((error as Error).message).toContain('out of stock');
    deadlines.endAll(() => new Error('unused') as never);
  });

  it('many requests of one timeout share one timer, which does not hold the process once they are done', async () => {
    const deadlines = new Deadlines();
    const before = timers();
    const calls = Array.from({ length: 100 }, (_, i) => start(deadlines, String(i), 60_000));
    expect(timers() - before).toBe(1);
    for (const { call } of calls) call.resolve(m(call.message.id));
    await Promise.all(calls.map((c) => c.outcome));
    // Still armed for the first deadline, but unreferenced: it keeps no process alive.
    expect(timers()).toBe(before);
    const again = start(deadlines, 'again', 60_000);
    expect(timers() - before).toBe(1);
    again.call.resolve(m('again'));
    await again.outcome;
    expect(timers()).toBe(before);
    deadlines.endAll(() => new Error('unused') as never);
  });

  it('endAll fails every request in flight with the given reason', async () => {
    const deadlines = new Deadlines();
    const calls = [start(deadlines, 'a', 1000), start(deadlines, 'b', 2000)];
    const { ClosedError } = await import('../src/errors.js');
    deadlines.endAll(() => new ClosedError('closed'));
    for (const { outcome } of calls) expect(isMsgError((await outcome).error, 'CLOSED')).toBe(true);
  });
});
