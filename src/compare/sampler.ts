import { readFileSync } from "node:fs";
import { processCpuSeconds } from "./cpu.js";

/** Resident memory of a process now, in MB, from /proc/PID/status (VmRSS). */
export function processRssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

/** A process's CPU seconds and RSS at one moment. */
export interface ProcessSample {
  atMs: number;
  cpuSec: number;
  rssMb: number;
}

/** Reads a process's CPU and RSS; undefined once it has gone. */
export function sampleProcess(pid: number, atMs: number): ProcessSample | undefined {
  try {
    return { atMs, cpuSec: processCpuSeconds(pid), rssMb: processRssMb(pid) };
  } catch {
    return undefined;
  }
}
