import type { ProxyKind } from "../peers/options.js";
import { type CpuWindow, coresPer1000CallsPerSec, cpuUsPerCall } from "./cpu-account.js";
import { type LoadFigures, type MachineInfo, median, type SizingStep, stepLabel } from "./sizing-result.js";

/** direct: grpc-js round_robin over the lab's DNS to the servers; else through that proxy. */
export type ProxyPath = "direct" | ProxyKind;

/** One load run on one path. */
export interface ProxyRun extends LoadFigures {
  step: SizingStep;
  path: ProxyPath;
  repeat: number;
  /** The proxy's CPU over the run (every process of it); null on the direct path. */
  proxyCpu: CpuWindow | null;
}

/** A proxy with no calls (health checks, DNS, stats), measured before the steps, all at once. */
export interface ProxyIdle {
  proxy: ProxyKind;
  window: CpuWindow;
  cores: number;
}

/** One row: one proxy at one step, medians over the repeats. */
export interface ProxyRow {
  step: SizingStep;
  proxy: ProxyKind;
  repeats: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** The proxy minus direct, paired run by run (the same repeat), then the median. */
  addedP50Ms: number;
  addedP99Ms: number;
  /** CPU per call net of idle; null when no call went through. */
  cpuUsPerCall: number | null;
  coresPer1000CallsPerSec: number | null;
  calls: number;
  failed: number;
}

/** Envoy beside the better of the other proxies at one step: positive is Envoy worse. */
export interface EnvoyVersusBest {
  step: SizingStep;
  /** The peer with the lower added p50, and the one with the lower CPU per call. */
  latencyPeer: ProxyKind;
  cpuPeer: ProxyKind;
  /** Envoy's added p50 minus the better peer's, in ms. */
  addedP50DeltaMs: number;
  /** Envoy's CPU per call over the better peer's; null without figures. */
  cpuRatio: number | null;
}

export interface ProxiesResult {
  machine: MachineInfo;
  /** "1.x" per proxy. */
  versions: Partial<Record<ProxyKind, string>>;
  /** Worker threads (Envoy --concurrency, HAProxy nbthread) or processes (nginx) of each. */
  workers: number;
  stepMs: number;
  repeats: number;
  servers: number;
  idle: ProxyIdle[];
  rows: ProxyRow[];
  envoyVersusBest: EnvoyVersusBest[];
  runs: ProxyRun[];
}

/** The rows from every run: per step, one per proxy, in the order they ran. */
export function summarizeProxies(runs: readonly ProxyRun[], idle: readonly ProxyIdle[]): ProxyRow[] {
  const steps = [...new Map(runs.map((r) => [stepLabel(r.step), r.step])).values()];
  const proxies = [...new Set(runs.flatMap((r) => (r.path === "direct" ? [] : [r.path])))];
  return steps.flatMap((step) => {
    const here = runs.filter((r) => stepLabel(r.step) === stepLabel(step));
    const direct = here.filter((r) => r.path === "direct");
    return proxies.map((proxy): ProxyRow => {
      const mine = here.filter((r) => r.path === proxy);
      const pairs = mine.flatMap((p) => {
        const d = direct.find((x) => x.repeat === p.repeat);
        return d ? [{ d, p }] : [];
      });
      const idleCores = idle.find((i) => i.proxy === proxy)?.cores ?? 0;
      const cpu = mine.flatMap((r) => {
        const us = r.proxyCpu ? cpuUsPerCall(r.proxyCpu, idleCores, r.calls) : null;
        return us === null ? [] : [us];
      });
      const us = cpu.length > 0 ? median(cpu) : null;
      return {
        step,
        proxy,
        repeats: pairs.length,
        callsPerSec: median(mine.map((r) => r.callsPerSec)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        addedP50Ms: median(pairs.map(({ d, p }) => p.p50Ms - d.p50Ms)),
        addedP99Ms: median(pairs.map(({ d, p }) => p.p99Ms - d.p99Ms)),
        cpuUsPerCall: us,
        coresPer1000CallsPerSec: us === null ? null : coresPer1000CallsPerSec(us),
        calls: mine.reduce((n, r) => n + r.calls, 0),
        failed: mine.reduce((n, r) => n + r.failed, 0),
      };
    });
  });
}

/** Per step, Envoy against the better peer on each figure; empty without Envoy or a peer. */
export function envoyVersusBest(rows: readonly ProxyRow[]): EnvoyVersusBest[] {
  const steps = [...new Map(rows.map((r) => [stepLabel(r.step), r.step])).values()];
  return steps.flatMap((step) => {
    const here = rows.filter((r) => stepLabel(r.step) === stepLabel(step));
    const envoy = here.find((r) => r.proxy === "envoy");
    const peers = here.filter((r) => r.proxy !== "envoy");
    if (envoy === undefined || peers.length === 0) return [];
    const byLatency = [...peers].sort((a, b) => a.addedP50Ms - b.addedP50Ms)[0] as ProxyRow;
    const withCpu = peers.filter((r) => r.cpuUsPerCall !== null);
    const byCpu = [...withCpu].sort((a, b) => (a.cpuUsPerCall ?? 0) - (b.cpuUsPerCall ?? 0))[0];
    const cpuRatio =
      byCpu?.cpuUsPerCall && envoy.cpuUsPerCall !== null ? envoy.cpuUsPerCall / byCpu.cpuUsPerCall : null;
    return [
      {
        step,
        latencyPeer: byLatency.proxy,
        cpuPeer: byCpu?.proxy ?? byLatency.proxy,
        addedP50DeltaMs: envoy.addedP50Ms - byLatency.addedP50Ms,
        cpuRatio,
      },
    ];
  });
}
