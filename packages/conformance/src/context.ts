import type { Capabilities, Pattern, Transport } from '@msg/core';
import { it } from 'vitest';
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
}

/** A case that runs only when `condition` holds, and otherwise shows as skipped with its reason. */
export function caseIf(ctx: Context, condition: boolean, title: string, reason: string, body: () => Promise<void>): void {
  if (condition) it(title, body, ctx.caseTimeout);
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
