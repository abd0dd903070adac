import type { Capabilities, Pattern, Transport } from '@msg/core';
import { AsyncLocalStorage } from 'node:async_hooks';
import { type TestContext, it as vitestIt } from 'vitest';
import type { Peers } from './helpers.js';

export interface Context {
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly peers: Peers;
  /** Time after which a message that has not arrived will not arrive. */
  readonly settle: number;
  /** A survey deadline the backend's respondents can meet. */
  readonly deadline: number;
  /** Timeout of one case. */
  readonly caseTimeout: number;
  /** Cases run side by side with others (stress mode): none may count what the whole process holds. */
  readonly stressed: boolean;
  /** What a timing bound (a timeout that fires, a deadline that ends a survey) may overrun by. */
  readonly margin: number;
}

/** The case running in this async context, for what must end with it (see onCaseFinished). */
const running = new AsyncLocalStorage<TestContext>();

/**
 * A case of the suite: vitest's `it`, with the case's own context kept for `onCaseFinished`, which
 * (unlike vitest's global hooks) works while cases run side by side.
 */
export function it(title: string, body: () => void | Promise<void>, timeout?: number): void {
  vitestIt(title, (test) => running.run(test, body), timeout);
}
it.skip = (title: string, body: () => void | Promise<void>): void => vitestIt.skip(title, body);

/** Runs `cleanup` when the current case ends, pass or fail. */
export function onCaseFinished(cleanup: () => Promise<void>, timeout: number): void {
  const test = running.getStore();
  if (!test) throw new Error('onCaseFinished is for use inside a conformance case');
  test.onTestFinished(cleanup, timeout);
}

/** A case that runs only when `condition` holds, and otherwise shows as skipped with its reason. */
export function caseIf(ctx: Context, condition: boolean, title: string, reason: string, body: () => Promise<void>, timeout = ctx.caseTimeout): void {
  if (condition) it(title, body, timeout);
  else it.skip(`${title} [skipped: ${ctx.name} ${reason}]`, body);
}

export function supports(ctx: Context, pattern: Pattern): boolean {
  return ctx.capabilities.patterns.includes(pattern);
}

/** Two peers: `a` serves or listens, `b` asks or sends. */
export async function pair(ctx: Context): Promise<[Transport, Transport]> {
  return [await ctx.peers.one(), await ctx.peers.one()];
}

export async function trio(ctx: Context): Promise<[Transport, Transport, Transport]> {
  return [await ctx.peers.one(), await ctx.peers.one(), await ctx.peers.one()];
}
