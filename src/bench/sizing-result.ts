import { type CpuWindow, coresPer1000CallsPerSec, cpuUsPerCall } from "./cpu-account.js";

/** One load of the sizing: open loop at a rate, or closed loop with calls in flight. */
export type SizingStep = { kind: "rate"; rps: number } | { kind: "closed"; concurrency: number };

/** direct: grpc-js round_robin over the lab's DNS to the servers; envoy: through Envoy's listener. */
export type SizingPath = "direct" | "envoy";

/** What the load tool reported of one run. */
export interface LoadFigures {
  calls: number;
  failed: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** One load run: one path, one step, one repeat, on the lab of one Envoy worker count. */
export interface SizingRun extends LoadFigures {
  envoyConcurrency: number;
  step: SizingStep;
  path: SizingPath;
  repeat: number;
  /** Envoy's CPU over the run; null on the direct path. */
  envoyCpu: CpuWindow | null;
  /** The load tool's own CPU over the run (grpc-js in this process): the machine's yardstick. */
  clientCpu: CpuWindow;
}

/** Envoy with no calls (health checks, DNS refreshes, stats), measured before the steps. */
export interface SizingIdle {
  envoyConcurrency: number;
  window: CpuWindow;
  /** Cores busy on average: subtracted pro rata from every step. */
  cores: number;
}

/** Where the numbers were taken: a ratio means little without the machine's load. */
export interface MachineInfo {
  cores: number;
  /** os.loadavg() (1, 5, 15 min) when the bench started and when it ended. */
  loadAvgStart: number[];
  loadAvgEnd: number[];
  node: string;
  envoy: string;
  clockTicksPerSec: number;
}

/** One row of the table: the median over repeats of each figure. */
export interface SizingRow {
  envoyConcurrency: number;
  step: SizingStep;
  repeats: number;
  direct: { callsPerSec: number; p50Ms: number; p99Ms: number };
  envoy: { callsPerSec: number; p50Ms: number; p99Ms: number };
  /** Via Envoy minus direct, paired run by run (adjacent in time), then the median. */
  addedP50Ms: number;
  addedP99Ms: number;
  /** Largest minus smallest per-repeat added p50: the noise of this row. */
  addedP50SpreadMs: number;
  /** Envoy's CPU per call net of idle; null when no call went through. */
  envoyCpuUsPerCall: number | null;
  envoyCpuUsPerCallSpread: number;
  envoyCoresPer1000CallsPerSec: number | null;
  /** The load tool's CPU per call on the direct path: what one grpc-js call costs on this machine now. */
  clientCpuUsPerCall: number | null;
  /** Envoy's CPU per call over the load tool's: steadier across machines and loads than either. */
  envoyPerClientCpu: number | null;
  failed: number;
}

export interface SizingResult {
  machine: MachineInfo;
  /** Length of each run, in ms, and runs of each step and path. */
  stepMs: number;
  repeats: number;
  servers: number;
  idle: SizingIdle[];
  rows: SizingRow[];
  runs: SizingRun[];
}

export const stepLabel = (s: SizingStep): string =>
  s.kind === "rate" ? `${s.rps}/s` : `closed c=${s.concurrency}`;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const spread = (xs: readonly number[]): number => (xs.length === 0 ? 0 : Math.max(...xs) - Math.min(...xs));

/** The table's rows from every run, one per Envoy worker count and step, in the order they ran. */
export function summarizeSizing(runs: readonly SizingRun[], idle: readonly SizingIdle[]): SizingRow[] {
  const groups = new Map<string, SizingRun[]>();
  for (const r of runs) {
    const key = `${r.envoyConcurrency} ${stepLabel(r.step)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as SizingRun;
    const idleCores = idle.find((i) => i.envoyConcurrency === first.envoyConcurrency)?.cores ?? 0;
    const direct = group.filter((r) => r.path === "direct");
    const envoy = group.filter((r) => r.path === "envoy");
    const pairs = envoy.flatMap((e) => {
      const d = direct.find((x) => x.repeat === e.repeat);
      return d ? [{ d, e }] : [];
    });
    const addedP50 = pairs.map(({ d, e }) => e.p50Ms - d.p50Ms);
    const cpu = envoy.flatMap((e) => {
      const us = e.envoyCpu ? cpuUsPerCall(e.envoyCpu, idleCores, e.calls) : null;
      return us === null ? [] : [us];
    });
    const side = (rs: SizingRun[]) => ({
      callsPerSec: median(rs.map((r) => r.callsPerSec)),
      p50Ms: median(rs.map((r) => r.p50Ms)),
      p99Ms: median(rs.map((r) => r.p99Ms)),
    });
    const usPerCall = cpu.length > 0 ? median(cpu) : null;
    const client = direct.flatMap((d) => (d.calls > 0 ? [(d.clientCpu.cpuSec * 1e6) / d.calls] : []));
    const clientUs = client.length > 0 ? median(client) : null;
    return {
      envoyConcurrency: first.envoyConcurrency,
      step: first.step,
      repeats: pairs.length,
      direct: side(direct),
      envoy: side(envoy),
      addedP50Ms: median(addedP50),
      addedP99Ms: median(pairs.map(({ d, e }) => e.p99Ms - d.p99Ms)),
      addedP50SpreadMs: spread(addedP50),
      envoyCpuUsPerCall: usPerCall,
      envoyCpuUsPerCallSpread: spread(cpu),
      envoyCoresPer1000CallsPerSec: usPerCall === null ? null : coresPer1000CallsPerSec(usPerCall),
      clientCpuUsPerCall: clientUs,
      envoyPerClientCpu:
        usPerCall === null || clientUs === null || clientUs === 0 ? null : usPerCall / clientUs,
      failed: group.reduce((n, r) => n + r.failed, 0),
    };
  });
}
