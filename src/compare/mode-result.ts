import type { LabServer } from "../lab/servers.js";
import { type CallOutcome, reportOfWindow } from "../loadgen/recorder.js";
import { imbalanceOf, type LoadReport } from "../loadgen/report.js";
import { balancerOf, type CompareMode, describeMode, modeName } from "./modes.js";
import type { CompareBackend, CompareModeResult } from "./report.js";

/** The lab server killed in each mode: server 2, not the slow one. */
export const VICTIM_INDEX = 1;

/** "server 1 (slow)", "server 2 (killed)", "server 4 (new)": a lab server as every report names it. */
export const serverLabel = (s: LabServer, killAtMs: number | null, newcomer: LabServer | undefined): string =>
  `server ${s.index + 1}${s.index === 0 ? " (slow)" : s.index === VICTIM_INDEX && killAtMs !== null ? " (killed)" : s === newcomer ? " (new)" : ""}`;

/** One mode's result from its run: the balance before the kill, the failures after it, the CPU each side used. */
export function summarize(
  mode: CompareMode,
  servers: readonly LabServer[],
  report: LoadReport,
  outcomes: readonly CallOutcome[],
  killAtMs: number | null,
  balancerCpuSec: number,
  clientCpuSec: number,
  newcomer?: LabServer,
): CompareModeResult {
  const labelOf = (s: LabServer): string => serverLabel(s, killAtMs, newcomer);
  const byId = new Map([...servers, ...(newcomer ? [newcomer] : [])].map((s) => [s.id, s]));
  const label = (id: string): string => {
    const s = byId.get(id);
    return s === undefined ? id : labelOf(s);
  };
  // The balance is read before the kill: afterwards every mode loses a server.
  const before = reportOfWindow(
    outcomes,
    { target: report.target, concurrency: report.concurrency, durationMs: killAtMs ?? report.durationMs },
    0,
    killAtMs ?? Number.POSITIVE_INFINITY,
  );
  const backends: CompareBackend[] = servers.map((s) => {
    const b = before.perBackend.find((x) => x.serverId === s.id);
    return {
      server: s.index + 1,
      label: labelOf(s),
      count: b?.count ?? 0,
      sharePct: b?.sharePct ?? 0,
      p50Ms: b?.latencyMs?.p50 ?? 0,
      p99Ms: b?.latencyMs?.p99 ?? 0,
    };
  });
  const killSecond = killAtMs === null ? Number.POSITIVE_INFINITY : Math.floor(killAtMs / 1000);
  return {
    mode: modeName(mode),
    description: describeMode(mode),
    balancer: balancerOf(mode),
    backends,
    cv: imbalanceOf(
      backends.map((b) => b.count),
      servers.length,
    ).cv,
    backendsUsed: backends.filter((b) => b.count > 0).length,
    latencyMs: report.latencyMs,
    requests: report.requests,
    errors: report.errors,
    killAtMs: killAtMs === null ? null : Math.round(killAtMs),
    failedAfterKill: report.perSecond.filter((s) => s.second >= killSecond).reduce((n, s) => n + s.failed, 0),
    balancerCpuSec,
    clientCpuSec,
    perSecond: report.perSecond.map((s) => ({
      second: s.second,
      backends: Object.fromEntries(Object.entries(s.backends).map(([id, n]) => [label(id), n])),
      failed: s.failed,
    })),
  };
}
