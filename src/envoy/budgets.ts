import type { ResolvedEnvoyConfigOptions } from "./options.js";

/** Added to every budget: timers firing late on a loaded 2-core machine, not a configured interval. */
export const SCHEDULING_SLACK_MS = 250;

/** The timings a budget follows from. */
export type BudgetTimings = Pick<
  ResolvedEnvoyConfigOptions,
  "healthCheck" | "dnsRefreshMs" | "updateMergeWindowMs"
>;

/**
 * Worst cases, in ms, that follow from the timings of an Envoy config: the lab's
 * scenarios and the engines' (Compose, Kubernetes) are judged by what they run.
 */
export interface EngineBudgets {
  /**
   * A lost replica out of rotation: unhealthyThreshold failed checks, plus one interval of
   * phase, plus the merge window (a health change reaches the load balancer when it closes).
   */
  detectionMs: number;
  /** A new replica's first call: a DNS refresh, passing checks, the merge window. */
  joinMs: number;
  /**
   * A replica that left DNS dropped: the next refresh, at most two refresh periods away. A
   * removed host reaches the load balancer at once: Envoy merges only health, weight and
   * metadata changes.
   */
  removalMs: number;
}

export function engineBudgets(envoy: BudgetTimings): EngineBudgets {
  const hc = envoy.healthCheck;
  const detectionMs =
    hc === false
      ? 2 * envoy.dnsRefreshMs + SCHEDULING_SLACK_MS
      : (hc.unhealthyThreshold + 1) * hc.intervalMs +
        hc.unhealthyThreshold * hc.timeoutMs +
        envoy.updateMergeWindowMs +
        SCHEDULING_SLACK_MS;
  const checks = hc === false ? 0 : (hc.healthyThreshold + 1) * hc.intervalMs + hc.timeoutMs;
  return {
    detectionMs,
    joinMs: envoy.dnsRefreshMs + checks + envoy.updateMergeWindowMs + SCHEDULING_SLACK_MS,
    removalMs: 2 * envoy.dnsRefreshMs + SCHEDULING_SLACK_MS,
  };
}

/** How the deployed timings read, for a report: "health checks every 2000 ms (timeout 1000 ms) …". */
export function describeTimings(envoy: BudgetTimings): string {
  const hc = envoy.healthCheck;
  const checks =
    hc === false
      ? "no health checks"
      : `health checks every ${hc.intervalMs} ms (timeout ${hc.timeoutMs} ms, out after ${hc.unhealthyThreshold}, in after ${hc.healthyThreshold})`;
  return `${checks}, DNS refresh every ${envoy.dnsRefreshMs} ms, merge window ${envoy.updateMergeWindowMs} ms`;
}
