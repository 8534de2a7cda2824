import { readdir, readFile } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";

/**
 * /proc counts CPU time in USER_HZ ticks, which Linux fixes at 100 a second
 * for this interface whatever the kernel's own HZ.
 */
const TICKS_PER_S = 100;

/** One process's resident memory, CPU time so far, open descriptors and age, from /proc. */
export interface ProcessUsage {
  rssBytes: number;
  /** User plus system CPU time since it started, in ms (10 ms resolution). */
  cpuMs: number;
  /** Open file descriptors (sockets included). */
  fds: number;
  /** Time since it started, in ms (10 ms resolution). */
  ageMs: number;
}

/** Reads /proc/<pid> (Linux only); rejects when the process is gone. */
export async function processUsage(pid: number): Promise<ProcessUsage> {
  const [stat, status, fds, uptime] = await Promise.all([
    readFile(`/proc/${pid}/stat`, "utf8"),
    readFile(`/proc/${pid}/status`, "utf8"),
    readdir(`/proc/${pid}/fd`),
    readFile("/proc/uptime", "utf8"),
  ]);
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const tick = (i: number): number => Number(fields[i - 3]);
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  const bootS = Number(uptime.split(" ")[0]);
  return {
    rssBytes: rssKb * 1024,
    cpuMs: ((tick(14) + tick(15)) * 1000) / TICKS_PER_S,
    fds: fds.length,
    ageMs: Math.round((bootS - tick(22) / TICKS_PER_S) * 1000),
  };
}

/** CPU a process used over `windowMs` of wall time, in percent of one core; its RSS at the end. */
export async function idleCpu(
  pid: number,
  windowMs: number,
  signal: AbortSignal,
): Promise<{ cpuPct: number; rssBytes: number; windowMs: number }> {
  const before = await processUsage(pid);
  const t0 = performance.now();
  await delay(windowMs, undefined, { signal });
  const after = await processUsage(pid);
  const wall = performance.now() - t0;
  return {
    cpuPct: Math.round((1000 * (after.cpuMs - before.cpuMs)) / wall) / 10,
    rssBytes: after.rssBytes,
    windowMs: Math.round(wall),
  };
}

export const mib = (bytes: number): number => Math.round((10 * bytes) / 1024 / 1024) / 10;
