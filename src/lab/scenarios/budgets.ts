import { formatHostPort } from "../../util/address.js";
import type { ResolvedLabOptions } from "../options.js";
import type { LabServer } from "../servers.js";

export const addressOf = (s: LabServer): string => formatHostPort(s.host, s.port);

/** True once Envoy no longer routes to the server: its host is gone, or marked unhealthy. */
export const notRoutedTo =
  (s: LabServer) =>
  (hosts: { address: string; port: number; healthy: boolean }[]): boolean =>
    !hosts.some((h) => formatHostPort(h.address, h.port) === addressOf(s) && h.healthy);

/** Added to every budget: timers firing late on a loaded 2-core machine, not a configured interval. */
export const SCHEDULING_SLACK_MS = 250;

/** Worst case for active health checks to notice a dead or draining host, in ms. */
export function detectionBudgetMs(o: ResolvedLabOptions): number {
  const hc = o.envoy.healthCheck;
  if (hc === false) return o.startTimeoutMs;
  // unhealthyThreshold failed checks, each up to an interval apart and a timeout long, plus one interval of phase.
  return (
    (hc.unhealthyThreshold + 1) * hc.intervalMs + hc.unhealthyThreshold * hc.timeoutMs + SCHEDULING_SLACK_MS
  );
}

/** Worst case for Envoy to drop a host that left DNS: the next refresh, at most two refresh periods away. */
export function removalBudgetMs(o: ResolvedLabOptions): number {
  return 2 * o.envoy.dnsRefreshMs + SCHEDULING_SLACK_MS;
}

/** Worst case for a host added to DNS to get traffic: a DNS refresh, passing health checks, the merge window. */
export function joinBudgetMs(o: ResolvedLabOptions): number {
  const hc = o.envoy.healthCheck;
  const checks = hc === false ? 0 : (hc.healthyThreshold + 1) * hc.intervalMs + hc.timeoutMs;
  return o.envoy.dnsRefreshMs + checks + o.envoy.updateMergeWindowMs + SCHEDULING_SLACK_MS;
}
