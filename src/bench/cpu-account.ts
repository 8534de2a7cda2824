import { LabError } from "../errors.js";

/**
 * What a process used over one window of wall time, from two readings of its
 * CPU time. `cpuSec` is user + system time of every thread.
 */
export interface CpuWindow {
  cpuSec: number;
  wallMs: number;
}

/**
 * utime + stime, in clock ticks, from one /proc/PID/stat line. The command name
 * (field 2) may hold spaces and parentheses, so fields are counted after its last ')'.
 */
export function statCpuTicks(stat: string): number {
  // After the name come the state (field 3) and then fields 4…; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (fields.length < 13 || !Number.isInteger(utime) || !Number.isInteger(stime))
    throw new LabError(`bench: no utime/stime in a /proc stat line: '${stat.slice(0, 80)}'`);
  return utime + stime;
}

/** The window between two readings taken `wallMs` apart, from ticks at `ticksPerSec`. */
export function cpuWindow(
  ticksBefore: number,
  ticksAfter: number,
  ticksPerSec: number,
  wallMs: number,
): CpuWindow {
  return { cpuSec: (ticksAfter - ticksBefore) / ticksPerSec, wallMs };
}

/** Cores busy on average over a window (CPU seconds per wall second): an idle Envoy's cost. */
export const coresBusy = (w: CpuWindow): number => (w.wallMs > 0 ? w.cpuSec / (w.wallMs / 1000) : 0);

/**
 * CPU seconds of a step net of the idle cost, charged pro rata to the step's
 * length: health checks, DNS refreshes and stats flushes run whether calls come
 * or not. Never below 0 (tick-sampled CPU time can read low over a short step).
 */
export const netCpuSec = (step: CpuWindow, idleCores: number): number =>
  Math.max(0, step.cpuSec - idleCores * (step.wallMs / 1000));

/** CPU µs per call of a step, net of idle; null without calls. */
export function cpuUsPerCall(step: CpuWindow, idleCores: number, calls: number): number | null {
  return calls > 0 ? (netCpuSec(step, idleCores) * 1e6) / calls : null;
}

/**
 * Cores busy per 1,000 calls/s at a cost of `usPerCall`: 1,000 calls of `usPerCall` µs
 * each second. The unit of Istio's published sizing (vCPU per 1,000 requests/s).
 */
export const coresPer1000CallsPerSec = (usPerCall: number): number => usPerCall / 1000;
