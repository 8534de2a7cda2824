import type { ProxiesResult, ProxyRun } from "./proxies-result.js";
import { stepLabel } from "./sizing-result.js";

const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "-");
const plus = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(2)}` : "-");
const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(" ");

const WIDTHS = [12, 8, 8, 7, 7, 10, 10, 9, 14, 7] as const;
const tableLine = (cells: readonly string[]): string =>
  cells
    .map((c, i) => (i < 2 ? c.padEnd(WIDTHS[i] ?? 0) : c.padStart(WIDTHS[i] ?? 0)))
    .join("")
    .trimEnd();

/** The per-proxy table: one block per step, then Envoy beside the better peer. */
export function formatProxies(r: ProxiesResult): string {
  const m = r.machine;
  const versions = Object.entries(r.versions)
    .map(([p, v]) => `${p} ${v}`)
    .join(", ");
  const rows = r.rows.map((w) =>
    tableLine([
      stepLabel(w.step),
      w.proxy,
      String(Math.round(w.callsPerSec)),
      ms(w.p50Ms),
      ms(w.p99Ms),
      plus(w.addedP50Ms),
      plus(w.addedP99Ms),
      w.cpuUsPerCall === null ? "-" : String(Math.round(w.cpuUsPerCall)),
      w.coresPer1000CallsPerSec === null ? "-" : w.coresPer1000CallsPerSec.toFixed(3),
      String(w.failed),
    ]),
  );
  const versus = r.envoyVersusBest.map(
    (v) =>
      `  ${stepLabel(v.step).padEnd(12)} added p50 ${plus(v.addedP50DeltaMs)} ms against ${v.latencyPeer}, CPU per call ${v.cpuRatio === null ? "-" : `${v.cpuRatio.toFixed(2)}×`} ${v.cpuPeer}'s`,
  );
  const idle = r.idle.map((i) => `${i.proxy} ${i.cores.toFixed(3)} cores`).join(", ");
  return [
    `What each hop costs: ${versions}; ${r.workers} workers each; Node ${m.node}, ${m.cores} cores, load average ${load(m.loadAvgStart)} at the start, ${load(m.loadAvgEnd)} at the end`,
    `direct = grpc-js round_robin over the lab's DNS to the same ${r.servers} servers; medians of ${r.repeats} runs of ${r.stepMs} ms per cell, the paths' order rotating run by run`,
    tableLine([
      "load",
      "proxy",
      "calls/s",
      "p50 ms",
      "p99 ms",
      "added p50",
      "added p99",
      "µs/call",
      "cores/1000/s",
      "failed",
    ]),
    ...rows,
    `idle (health checks, DNS, stats), subtracted pro rata: ${idle}`,
    ...(versus.length === 0
      ? []
      : ["Envoy beside the better of the others (positive: Envoy adds more):", ...versus]),
    "",
  ].join("\n");
}

/** One progress line per run. */
export function describeProxyRun(r: ProxyRun): string {
  const cpu = r.proxyCpu === null ? "" : `, CPU ${r.proxyCpu.cpuSec.toFixed(2)} s`;
  return `bench: ${stepLabel(r.step)}, ${r.path} run ${r.repeat + 1}: ${r.calls} calls at ${Math.round(r.callsPerSec)}/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${r.failed > 0 ? `, ${r.failed} failed` : ""}${cpu}`;
}
