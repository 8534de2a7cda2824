import { kubernetesPreset } from "../../deploy/presets.js";
import { engineBudgets } from "../../envoy/budgets.js";
import { resolveEnvoyConfigOptions } from "../../envoy/options.js";

/** The options deploy/k8s/base's Envoy config is generated from. */
export const K8S_ENVOY = resolveEnvoyConfigOptions(kubernetesPreset.envoy);

/**
 * The timings of deploy/k8s that decide whether a day-two operation costs calls,
 * in one place (a test checks the manifests say the same).
 *
 * A server pod being removed (rolling deploy, scale-in, pod deletion) gets SIGTERM
 * and at the same moment leaves the headless Service's DNS answer (a terminating
 * pod's endpoint is not ready). The server then reports NOT_SERVING but keeps
 * serving for its drain delay, so that Envoy stops routing to it first, by
 * whichever comes first:
 *  - DNS: CoreDNS's cached answer (one TTL) + Envoy's next refresh (a removed host
 *    reaches Envoy's load balancer at once, no merge window);
 *  - health checks: `unhealthyThreshold` NOT_SERVING answers, one interval apart, then
 *    the merge window.
 * Only then does the server refuse new calls and drain in-flight ones within its
 * grace period, all inside the pod's terminationGracePeriodSeconds. On clusters whose
 * CoreDNS answers with kubeadm's 30 s TTL (kind, minikube) the health checks are the
 * faster path, and they too fit in the drain delay.
 */
export const K8S_TIMING = {
  /** The server's --drain-delay-ms in server-deployment.yaml. */
  serverDrainDelayMs: 20_000,
  /** The server's --grace-ms in server-deployment.yaml. */
  serverGraceMs: 10_000,
  /** terminationGracePeriodSeconds of the server pods, in ms: drain delay + grace + 5 s spare. */
  terminationGraceMs: 35_000,
  /** CoreDNS's TTL for the cluster zone (its default, 5 s; a longer cache still caps at the TTL). */
  clusterDnsCacheMs: 5000,
} as const;

/**
 * How Envoy finds the server pods: dns (base: the headless Service's name) or xds (overlays/xds:
 * EDS over ADS from grpc-lb xds-server, which watches the Service's EndpointSlices).
 */
export type K8sDiscovery = "dns" | "xds";

/**
 * The engine budgets of the shipped Envoy timings, plus the hop the lab does not have: cluster
 * DNS's cache. By xDS neither DNS hop is in the way: the xDS server pushes on each EndpointSlice
 * change, so a new pod's budget is the health checks that let it in and the merge window. Measured,
 * a join by xDS takes 0.05–1.1 s (docs/discovery.md); the budget keeps room for a first check
 * that a pod still starting answers late, the next coming one interval later.
 */
export function k8sBudgets(discovery: K8sDiscovery = "dns") {
  const b = engineBudgets(K8S_ENVOY);
  return {
    /** From Ready to the first call: by DNS the answer may be cached one TTL longer. */
    joinMs: discovery === "xds" ? b.joinMs - K8S_ENVOY.dnsRefreshMs : b.joinMs + K8S_TIMING.clusterDnsCacheMs,
    /** From termination to no more calls: the faster of DNS (cache, refresh) and health checks. */
    removalMs: Math.min(b.removalMs + K8S_TIMING.clusterDnsCacheMs, b.detectionMs),
  };
}

/**
 * How long a Secret update may take to reach every pod, in ms: kubelet swaps a Secret
 * volume on the pod's next sync (syncFrequency, up to 1.5 times it with jitter; its cache
 * is kept current by a watch), then Envoy reloads on the swap and a server within its
 * --tls-reload-ms (1 s). The local cluster syncs every 5 s (scripts/k8s-local/config.sh);
 * kubelet's default is 1 min.
 */
export function secretUpdateBudgetMs(localCluster: boolean): number {
  const syncMs = localCluster ? 5000 : 60_000;
  return Math.round(syncMs * 1.5) + 20_000;
}
