import { readFileSync } from "node:fs";
import { LabError } from "../errors.js";

/** Linux's USER_HZ: the unit of utime and stime in /proc/PID/stat, 100 on every architecture Node runs on. */
const CLOCK_TICKS_PER_SEC = 100;

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export function processCpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (e) {
    throw new LabError(`cannot read the CPU time of pid ${pid} from /proc/${pid}/stat`, { cause: e });
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and the state.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new LabError(`/proc/${pid}/stat has no utime/stime: '${stat.slice(0, 80)}'`);
  return (utime + stime) / CLOCK_TICKS_PER_SEC;
}

/** This process's CPU seconds (user + system) so far. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** What a set of processes (or this one) used between `start()` and `stop()`. */
export interface CpuMeter {
  /** CPU seconds since the meter started. */
  stop(): number;
}

export function startCpuMeter(pids: readonly number[] | "self"): CpuMeter {
  const read = (): number =>
    pids === "self" ? ownCpuSeconds() : pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const before = read();
  return { stop: () => Math.round((read() - before) * 1000) / 1000 };
}
