import { describe, expect, it } from 'vitest';
import { combineHooks } from '../src/hooks.js';
import type { HookEvent, TransportHooks } from '../src/index.js';

const event: HookEvent = { transport: 't', pattern: 'publish', message: { id: '1', subject: 's', data: new Uint8Array(0), headers: {} } };

describe('combineHooks', () => {
  it('one set of hooks is used as it is', () => {
    const hooks: TransportHooks = { send: () => undefined };
    expect(combineHooks([hooks])).toBe(hooks);
  });

  it('runs send and deliver in the order installed, and every end a send returned', () => {
    const seen: string[] = [];
    const first: TransportHooks = {
      send: (_e, headers) => {
        seen.push('send 1');
        if (headers) headers.a = '1';
        return (error) => seen.push(`end 1 ${String(error)}`);
      },
      deliver: (_e, outcome) => void seen.push(`deliver 1 ${outcome}`),
    };
    const second: TransportHooks = {
      send: (_e, headers) => {
        seen.push(`send 2 saw a=${headers?.a}`);
        return undefined;
      },
      deliver: (_e, outcome) => void seen.push(`deliver 2 ${outcome}`),
    };
    const both = combineHooks([first, second]);
    both.send?.(event, {})?.(undefined);
    both.deliver?.({ ...event, subscription: 's', handled: false }, 'dropped');
    expect(seen).toEqual(['send 1', 'send 2 saw a=1', 'end 1 undefined', 'deliver 1 dropped', 'deliver 2 dropped']);
  });

  it('nests process: the first installed is outermost, and the work runs once', () => {
    const seen: string[] = [];
    const around = (name: string): TransportHooks => ({
      process: (_e, work) => {
        seen.push(`${name} in`);
        const result = work();
        seen.push(`${name} out`);
        return result;
      },
    });
    const result = combineHooks([around('a'), {}, around('b')]).process?.(event, () => {
      seen.push('work');
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual(['a in', 'b in', 'work', 'b out', 'a out']);
  });

  it('leaves out what none of them has', () => {
    expect(Object.keys(combineHooks([{ deliver: () => undefined }, {}]))).toEqual(['deliver']);
  });
});
