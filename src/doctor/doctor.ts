import type { EnvoyAdmin } from "../envoy/admin.js";
import { DoctorError } from "../errors.js";
import { ACTIVE_RECHECK_MS, withSecondReading } from "./active-readings.js";
import { choosesAmongHosts } from "./checks/check.js";
import { CHECKS, runChecks } from "./checks.js";
import { type EnvoyView, readEnvoy } from "./envoy-view.js";
import { bySeverity, type Finding, SEVERITIES, type Severity } from "./finding.js";
import { listOf } from "./list-of.js";
import { type LiveCaller, type LiveResult, liveFindings, sendLiveCalls } from "./live.js";
import { scopeOf } from "./scope.js";

export interface DoctorOptions {
  admin: EnvoyAdmin;
  /** Only this cluster (and the routes to it). Default: every cluster routes send gRPC to. */
  cluster?: string | undefined;
  /** Calls through a listener: where to send them and what to send. Default none. */
  live?: { listener: string; caller: LiveCaller; requests?: number; deadlineMs: number } | undefined;
  signal?: AbortSignal | undefined;
  /** When streams look pinned at the first reading of /clusters, how long until the second, in ms. Default 1000. */
  activeRecheckMs?: number | undefined;
}

/** What `grpc-lb doctor` found; `--format json` prints exactly this. */
export interface DoctorReport {
  /** The admin API read ("" with --config). */
  admin: string;
  /** With --config: the file checked (and the ConfigMap key it came from). */
  config?: string;
  envoyVersion: string;
  /** The clusters checked and how many routes send gRPC to them. */
  clusters: string[];
  routes: number;
  /** No route says it carries gRPC (a grpc match or content-type header), so routed clusters were taken as gRPC. */
  routesGuessed: boolean;
  /** How many checks ran on the configuration. */
  checks: number;
  findings: Finding[];
  counts: Record<Severity, number>;
  /** What doctor could not read or judge, one line each. */
  notes: string[];
  live?: LiveResult;
}

/** Reads the Envoy, runs every check and, with `live`, the calls; never throws for what it finds. */
export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const view = await withSecondReading(await readEnvoy(o.admin), o.admin, {
    windowMs: o.activeRecheckMs ?? ACTIVE_RECHECK_MS,
    signal: o.signal,
  });
  const report = checkView(view, o.admin.address, o.cluster);
  if (o.live === undefined || report.clusters.length === 0) return report;
  const inScope = report.clusters;
  const live = await sendLiveCalls(o.admin, o.live.caller, {
    listener: o.live.listener,
    requests:
      o.live.requests ??
      Math.min(
        1000,
        Math.max(30, 10 * Math.max(...inScope.map((c) => view.clusters.get(c)?.hosts.length ?? 0))),
      ),
    deadlineMs: o.live.deadlineMs,
    clusters: inScope,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const healthy = (name: string): string[] =>
    (view.clusters.get(name)?.hosts ?? []).filter((h) => h.failed.length === 0).map((h) => h.address);
  const findings = [...report.findings, ...liveFindings(live, healthy)].sort(bySeverity);
  return { ...report, findings, counts: countsOf(findings), live };
}

/**
 * Every check of the configuration on a view read from an admin API or a throwaway Envoy
 * (`hosts` "offline": no host known, none judged). A DoctorError only when `cluster` names a
 * cluster the view lacks.
 */
export function checkView(
  view: EnvoyView,
  source: string,
  cluster?: string,
  hosts: "from /clusters" | "offline" = "from /clusters",
): DoctorReport {
  const scope = scopeOf(view, cluster);
  if (scope === undefined)
    throw new DoctorError(
      `no cluster '${cluster}' in this Envoy (it has: ${[...view.clusters.keys()].join(", ") || "none"})`,
    );
  const notes = [...view.notes, ...scope.notes];
  if (scope.clusters.length === 0)
    notes.push(
      `no HTTP route sends calls to a cluster with servers to balance, so no gRPC balancing was checked; name a cluster with --cluster (it has: ${listOf([...view.clusters.keys()]) || "none"})`,
    );
  // Offline, no host is known by design, and the caller says so once.
  const unknown = scope.clusters.filter((c) => !c.hostsKnown && choosesAmongHosts(c));
  if (hosts === "from /clusters" && unknown.length > 0)
    notes.push(`hosts not judged for ${listOf(unknown.map((c) => c.name))}: not in /clusters`);
  const findings = runChecks(scope);
  return {
    admin: source,
    envoyVersion: view.version,
    clusters: scope.clusters.map((c) => c.name),
    routes: scope.routes.length,
    routesGuessed: scope.guessed,
    checks: CHECKS.length,
    findings,
    counts: countsOf(findings),
    notes,
  };
}

function countsOf(findings: Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

/** The exit status for a report: 1 when a finding is at `failOn` or worse, else 0. */
export function exitFor(report: DoctorReport, failOn: Severity): 0 | 1 {
  const worst = SEVERITIES.slice(0, SEVERITIES.indexOf(failOn) + 1);
  return worst.some((s) => report.counts[s] > 0) ? 1 : 0;
}
