import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { LabError } from "../errors.js";
import { type CpuWindow, cpuWindow, statCpuTicks } from "./cpu-account.js";

let ticksPerSec: number | undefined;

/**
 * The unit of utime and stime in /proc/PID/stat (USER_HZ), from `getconf CLK_TCK`;
 * 100, Linux's value on every architecture Node runs on, when getconf is missing.
 */
export function clockTicksPerSec(): number {
  if (ticksPerSec === undefined) {
    let n = Number.NaN;
    try {
      n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 2000 }).trim());
    } catch {
      // getconf missing: fall through to Linux's constant.
    }
    ticksPerSec = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSec;
}

/** CPU clock ticks (user + system, every thread) a process has used so far. */
export function processCpuTicks(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (e) {
    throw new LabError(`bench: cannot read the CPU time of pid ${pid} from /proc/${pid}/stat`, { cause: e });
  }
  return statCpuTicks(stat);
}

/** Reads a process's CPU time now; the function returned gives the window since. */
export function startCpuWindow(pid: number): () => CpuWindow {
  const perSec = clockTicksPerSec();
  const before = processCpuTicks(pid);
  const t0 = performance.now();
  return () => cpuWindow(before, processCpuTicks(pid), perSec, performance.now() - t0);
}

/** This process's CPU (µs resolution, from getrusage) from now; the function returned gives the window since. */
export function startOwnCpuWindow(): () => CpuWindow {
  const before = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const u = process.cpuUsage(before);
    return { cpuSec: (u.user + u.system) / 1e6, wallMs: performance.now() - t0 };
  };
}
