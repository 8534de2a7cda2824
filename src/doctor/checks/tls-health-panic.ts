import { DOCS } from "../finding.js";
import { obj } from "../view/json.js";
import { about, type Check, hostsJudged, perCluster } from "./check.js";
import { connectionHealthChecks, healthChecksWithoutH2, upstreamAlpnPatch } from "./tls.js";

const FAILED_HC = "failed_active_health_check";

/** The cluster's panic threshold in percent (common_lb_config.healthy_panic_threshold; 50 by default). */
function panicThreshold(cluster: Record<string, unknown>): number {
  const t = obj(obj(cluster.common_lb_config).healthy_panic_threshold);
  return t.value === undefined ? 50 : Number(t.value);
}

export const tlsHealthPanic: Check = perCluster(
  "tls-health-panic",
  "hosts failing TLS health checks while panic routing hides it",
  (c) => {
    const t = c.tls[0];
    if (t === undefined || !hostsJudged(c) || c.hosts.length === 0 || connectionHealthChecks(c).length === 0)
      return undefined;
    const failing = c.hosts.filter((h) => h.failed.includes(FAILED_HC));
    const healthyPercent = (100 * (c.hosts.length - failing.length)) / c.hosts.length;
    const threshold = panicThreshold(c.config);
    if (failing.length === 0 || healthyPercent >= threshold) return undefined;
    const alpnCause = healthChecksWithoutH2(c, t).length > 0;
    return about(c, {
      severity: "error",
      evidence: {
        field: "/clusters health_status, lb_healthy_panic",
        value: `${failing.length} of ${c.hosts.length} hosts ${FAILED_HC} over ${t.where} TLS (under the ${threshold}% panic threshold); ${c.panicRouted} requests routed in panic`,
      },
      why: `calls still split evenly because Envoy routes to every host in panic mode, so balancing looks fine while health checking is off and a dead server keeps getting calls${alpnCause ? "; here the health-check connections offer no ALPN h2" : "; see health_check.network_failure and the ssl.* stats for the cause"}`,
      docs: `${DOCS}/intro/arch_overview/upstream/load_balancing/panic_threshold`,
      ...(alpnCause ? { patch: upstreamAlpnPatch(c, t) } : {}),
    });
  },
);
