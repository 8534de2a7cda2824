import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { type PacedLoad, startPacedLoad } from "../../loadgen/paced-load.js";
import { formatHostPort } from "../../util/address.js";
import type { LabCluster } from "../cluster.js";
import type { LabServer } from "../servers.js";
import { check, type ScenarioCheck, type ScenarioName, type ScenarioReport } from "./report.js";

/** The steady load every scenario keeps up: 200 calls/s, bounded to 60 s and 12 000 calls. */
export function startScenarioLoad(cluster: LabCluster, signal: AbortSignal | undefined): PacedLoad {
  return startPacedLoad({
    ...(signal ? { signal } : {}),
    target: cluster.listenAddress,
    ratePerSec: 200,
    concurrency: 8,
    maxRequests: 12_000,
    maxDurationMs: 60_000,
    deadlineMs: 5000,
  });
}

export const addressOf = (s: LabServer): string => formatHostPort(s.host, s.port);

/** True once Envoy no longer routes to the server: its host is gone, or marked unhealthy. */
export const notRoutedTo =
  (s: LabServer) =>
  (hosts: { address: string; port: number; healthy: boolean }[]): boolean =>
    !hosts.some((h) => formatHostPort(h.address, h.port) === addressOf(s) && h.healthy);

/** Added to every budget: timers firing late on a loaded 2-core machine, not a configured interval. */
export const SCHEDULING_SLACK_MS = 250;

/** Worst case for active health checks to notice a dead or draining host, in ms. */
export function detectionBudgetMs(cluster: LabCluster): number {
  const hc = cluster.options.healthCheck;
  if (hc === false) return cluster.options.startTimeoutMs;
  // unhealthyThreshold failed checks, each up to an interval apart and a timeout long, plus one interval of phase.
  return (
    (hc.unhealthyThreshold + 1) * hc.intervalMs + hc.unhealthyThreshold * hc.timeoutMs + SCHEDULING_SLACK_MS
  );
}

/** Worst case for Envoy to drop a host that left DNS: the next refresh, at most two refresh periods away. */
export function removalBudgetMs(cluster: LabCluster): number {
  return 2 * cluster.options.dnsRefreshMs + SCHEDULING_SLACK_MS;
}

/** Worst case for a host added to DNS to get traffic: a DNS refresh, passing health checks, the merge window. */
export function joinBudgetMs(cluster: LabCluster): number {
  const hc = cluster.options.healthCheck;
  const checks = hc === false ? 0 : (hc.healthyThreshold + 1) * hc.intervalMs + hc.timeoutMs;
  return cluster.options.dnsRefreshMs + checks + cluster.options.updateMergeWindowMs + SCHEDULING_SLACK_MS;
}

/** Finishes a report: totals, Envoy's retry counters, the verdict. */
export async function finishReport(
  scenario: ScenarioName,
  cluster: LabCluster,
  requests: ScenarioReport["requests"],
  checks: ScenarioCheck[],
  rest: Pick<ScenarioReport, "measurements" | "distributions">,
  durationMs: number,
): Promise<ScenarioReport> {
  const stat = async (name: string): Promise<number> =>
    (await cluster.envoy.admin.stat(`cluster.${CLUSTER_NAME}.${name}`).catch(() => undefined)) ?? 0;
  const envoyRetries = await stat("upstream_rq_retry");
  const envoyRetryOverflows = await stat("upstream_rq_retry_overflow");
  const all = [
    ...checks,
    check("no retry refused by the budget", envoyRetryOverflows === 0, `${envoyRetryOverflows} refused`),
  ];
  return {
    scenario,
    verdict: all.every((c) => c.ok) ? "pass" : "fail",
    checks: all,
    requests,
    ...rest,
    envoyRetries,
    envoyRetryOverflows,
    durationMs: Math.round(durationMs),
  };
}
