// The control messages between the bench and its worker processes (over IPC, never the data path).
// Several roles may live in one process (the in-process transport); each message names its role.
import type { ProcessStats } from './machine.js';

export interface Common {
  driver: string;
  runId: string;
  size: number;
  warmupMs: number;
  /** Hard limit on the measured phase, whatever the counts say. */
  timeLimitMs: number;
  /** Adapters' transports instrumented with @msg/otel (`--otel`). */
  otel?: boolean;
}

export type Job =
  | (Common & { role: 'sub'; topic: string; messages: number; settleMs: number; topics?: number; publishers?: number; plain?: boolean })
  | (Common & { role: 'pub'; topic: string; messages: number; rate?: number; address?: string; topics?: number; index?: number; seqOffset?: number; plain?: boolean; awaitEach?: boolean })
  | (Common & { role: 'server'; service: string; workers: number })
  | (Common & { role: 'clients'; service: string; clients: number; durationMs: number; rate?: number; address?: string; plain?: boolean })
  | (Common & { role: 'stream'; service: string; windows: number[]; durationMs: number; address?: string })
  | (Common & { role: 'survey'; topic: string; respondents: number; durationMs: number; deadlineMs: number })
  | (Common & { role: 'bus'; group: string; members: number; messages: number; settleMs: number });

export type Role = Job['role'];

export type ToWorker =
  | { to: string; type: 'start'; job: Job }
  | { to: string; type: 'warm' }
  | { to: string; type: 'go'; epochNs: number }
  | { to: string; type: 'finish' }
  | { to: string; type: 'stop' };

export type FromWorker =
  | { from: string; type: 'ready'; address?: string }
  | { from: string; type: 'warm' }
  | { from: string; type: 'progress'; count: number }
  | { from: string; type: 'result'; result: Record<string, unknown>; process: ProcessStats }
  | { from: string; type: 'error'; message: string }
  | { from: string; type: 'stopped' };
