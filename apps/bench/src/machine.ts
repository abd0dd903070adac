// What a process was doing while it measured: CPU, peak RSS, event-loop delay and GC pauses.
import { type EventLoopUtilization, PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface ProcessStats {
  pid: number;
  roles: string[];
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** CPU time over wall time, in percent of one core. */
  cpuPercent: number;
  peakRssMB: number;
  eventLoopUtilization: number;
  /** Event-loop delay in milliseconds. */
  eventLoopDelay: { p50: number; p99: number; max: number };
  gc: { count: number; totalMs: number; maxMs: number };
}

/** Starts watching this process; each `snapshot` says what happened since. */
export function watchProcess(roles: string[]): { snapshot(): ProcessStats } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const elu: EventLoopUtilization = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    snapshot(): ProcessStats {
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      return {
        pid: process.pid,
        roles: [...roles],
        wallMs: Math.round(wallMs),
        cpuUserMs: Math.round(used.user / 1000),
        cpuSystemMs: Math.round(used.system / 1000),
        cpuPercent: Math.round(((used.user + used.system) / 1000 / wallMs) * 1000) / 10,
        peakRssMB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
        eventLoopUtilization: Math.round(performance.eventLoopUtilization(elu).utilization * 1000) / 1000,
        eventLoopDelay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
        gc: { count: gc.count, totalMs: Math.round(gc.totalMs * 100) / 100, maxMs: Math.round(gc.maxMs * 100) / 100 },
      };
    },
  };
}
