import { kubernetesPreset } from "../../deploy/presets.js";
import { resolveEnvoyConfigOptions } from "../../envoy/options.js";

/**
 * The timings of deploy/k8s/base that decide whether a day-two operation costs
 * calls, in one place (a test checks the manifests say the same).
 *
 * A server pod being removed (rolling deploy, scale-in, pod deletion) gets
 * SIGTERM and at the same moment leaves the headless Service's DNS answer (a
 * terminating pod's endpoint is not ready). The server then reports NOT_SERVING
 * but keeps serving for its drain delay, so that Envoy stops routing to it first,
 * by whichever comes first:
 *  - DNS: CoreDNS's cache (ttl) + Envoy's DNS refresh + the update merge window;
 *  - health checks: `unhealthyThreshold` NOT_SERVING answers, one interval apart.
 * Only then does the server stop taking calls and drain within its grace period,
 * all inside the pod's terminationGracePeriodSeconds.
 */
export const K8S_TIMING = {
  /** The server's --drain-delay-ms in server-deployment.yaml. */
  serverDrainDelayMs: 15_000,
  /** The server's --grace-ms in server-deployment.yaml. */
  serverGraceMs: 10_000,
  /** terminationGracePeriodSeconds of the server pods, in ms: drain delay + grace + 5 s spare. */
  terminationGraceMs: 30_000,
  /** CoreDNS's ttl and cache for the cluster zone in the local cluster (scripts/k8s-local/addons.yaml). */
  clusterDnsCacheMs: 5000,
} as const;

/** Added to every budget: timers firing late on a loaded 2-core machine and kubectl's own latency. */
export const K8S_SLACK_MS = 1000;

const envoy = resolveEnvoyConfigOptions(kubernetesPreset.envoy);

/** Worst case for Envoy to stop routing to a removed pod, the faster of DNS and health checks. */
export function removalBudgetMs(): number {
  // The pod left the answer at once; a cached answer lives one TTL, the next refresh is one period away.
  const viaDns = K8S_TIMING.clusterDnsCacheMs + envoy.dnsRefreshMs + envoy.updateMergeWindowMs;
  const hc = envoy.healthCheck;
  const viaHealthChecks =
    hc === false ? Number.POSITIVE_INFINITY : (hc.unhealthyThreshold + 1) * hc.intervalMs + hc.timeoutMs;
  return Math.min(viaDns, viaHealthChecks) + K8S_SLACK_MS;
}

/** Worst case for a pod that became Ready to get its first call: DNS cache, refresh, health checks, merge. */
export function joinBudgetMs(): number {
  const hc = envoy.healthCheck;
  const checks = hc === false ? 0 : (hc.healthyThreshold + 1) * hc.intervalMs + hc.timeoutMs;
  return (
    K8S_TIMING.clusterDnsCacheMs + envoy.dnsRefreshMs + checks + envoy.updateMergeWindowMs + K8S_SLACK_MS
  );
}
