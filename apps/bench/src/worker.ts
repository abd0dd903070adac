// A worker process: runs the roles the bench starts in it and reports over IPC. It stops when told,
// and exits on its own when the bench goes away, so that no worker outlives a run.
import type { FromWorker, Job, ToWorker } from './protocol.js';
import { RoleContext } from './role.js';
import { watchProcess } from './machine.js';
import { publisher, subscriber } from './workloads/pubsub.js';
import { clients, server, stream } from './workloads/echo.js';
import { survey } from './workloads/survey.js';
import { bus } from './workloads/bus.js';

const roles = new Map<string, RoleContext>();
const roleNames: string[] = [];
const watch = watchProcess(roleNames);

function send(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

function run(ctx: RoleContext, job: Job): Promise<Record<string, unknown>> {
  switch (job.role) {
    case 'sub':
      return subscriber(ctx, job);
    case 'pub':
      return publisher(ctx, job);
    case 'server':
      return server(ctx, job);
    case 'clients':
      return clients(ctx, job);
    case 'stream':
      return stream(ctx, job);
    case 'survey':
      return survey(ctx, job);
    case 'bus':
      return bus(ctx, job);
  }
}

async function start(id: string, job: Job): Promise<void> {
  const ctx = new RoleContext(id, send);
  roles.set(id, ctx);
  roleNames.push(job.role);
  try {
    const result = await run(ctx, job);
    ctx.post({ type: 'result', result, process: watch.snapshot() });
    // The parent going away also means stop.
    await ctx.next('stop', 24 * 3_600_000).catch(() => undefined);
  } catch (error) {
    ctx.post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
  await ctx.cleanup();
  ctx.post({ type: 'stopped' });
  roles.delete(id);
  if (roles.size === 0) setTimeout(() => process.exit(0), 50).unref();
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'start') void start(message.to, message.job);
  else roles.get(message.to)?.deliver(message);
});

// Ctrl-C reaches the whole process group: the bench decides when its workers stop.
process.on('SIGINT', () => undefined);
process.on('disconnect', () => {
  for (const ctx of roles.values()) ctx.deliver({ to: ctx.id, type: 'stop' });
  setTimeout(() => process.exit(1), 3_000).unref();
});
