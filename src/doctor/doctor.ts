import type { EnvoyAdmin } from "../envoy/admin.js";
import { DoctorError } from "../errors.js";
import { CHECKS, runChecks } from "./checks.js";
import { readEnvoy } from "./envoy-view.js";
import { bySeverity, type Finding, type Severity } from "./finding.js";
import { type LiveCaller, type LiveResult, liveFindings, sendLiveCalls } from "./live.js";
import { scopeOf } from "./scope.js";

export interface DoctorOptions {
  admin: EnvoyAdmin;
  /** Only this cluster (and the routes to it). Default: every cluster routes send gRPC to. */
  cluster?: string | undefined;
  /** Calls through a listener: where to send them and what to send. Default none. */
  live?: { listener: string; caller: LiveCaller; requests?: number; deadlineMs: number } | undefined;
  signal?: AbortSignal | undefined;
}

/** What `grpc-lb doctor` found; `--format json` prints exactly this. */
export interface DoctorReport {
  admin: string;
  envoyVersion: string;
  /** The clusters checked and how many routes send gRPC to them. */
  clusters: string[];
  routes: number;
  /** No route says it carries gRPC (a grpc match or content-type header), so every route was taken as gRPC. */
  routesGuessed: boolean;
  /** How many checks ran on the configuration. */
  checks: number;
  findings: Finding[];
  counts: Record<Severity, number>;
  live?: LiveResult;
}

/** Reads the Envoy, runs every check and, with `live`, the calls; never throws for what it finds. */
export async function runDoctor(o: DoctorOptions): Promise<DoctorReport> {
  const view = await readEnvoy(o.admin);
  const scope = scopeOf(view, o.cluster);
  if (scope === undefined)
    throw new DoctorError(
      `no cluster '${o.cluster}' in this Envoy (it has: ${[...view.clusters.keys()].join(", ") || "none"})`,
    );
  if (scope.clusters.length === 0)
    throw new DoctorError(
      "no HTTP route of this Envoy sends calls to a cluster; name one with --cluster (it has: " +
        `${[...view.clusters.keys()].join(", ") || "none"})`,
    );
  const findings = runChecks(scope);
  let live: LiveResult | undefined;
  if (o.live !== undefined) {
    const inScope = scope.clusters.map((c) => c.name);
    live = await sendLiveCalls(o.admin, o.live.caller, {
      listener: o.live.listener,
      requests:
        o.live.requests ??
        Math.min(1000, Math.max(30, 10 * Math.max(...scope.clusters.map((c) => c.hosts.length)))),
      deadlineMs: o.live.deadlineMs,
      clusters: inScope,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const healthy = (name: string): string[] =>
      (view.clusters.get(name)?.hosts ?? []).filter((h) => h.failed.length === 0).map((h) => h.address);
    findings.push(...liveFindings(live, healthy));
    findings.sort(bySeverity);
  }
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity] += 1;
  return {
    admin: o.admin.address,
    envoyVersion: view.version,
    clusters: scope.clusters.map((c) => c.name),
    routes: scope.routes.length,
    routesGuessed: scope.guessed,
    checks: CHECKS.length,
    findings,
    counts,
    ...(live ? { live } : {}),
  };
}
