import { about, type Check, hostsJudged, perCluster } from "./checks-cluster.js";
import type { ClusterView, Json } from "./envoy-view.js";
import { DOCS } from "./finding.js";
import { arr, obj } from "./view/json.js";

const outlierOf = (c: ClusterView): Json | undefined =>
  c.config.outlier_detection === undefined ? undefined : obj(c.config.outlier_detection);

/** The active health check this project uses: gRPC's own health service. */
const GRPC_HEALTH_CHECK = {
  timeout: "1s",
  interval: "5s",
  unhealthy_threshold: 2,
  healthy_threshold: 1,
  grpc_health_check: {},
};

export const healthChecks: Check[] = [
  perCluster("outlier-5xx", "outlier detection that ejects on statuses a client causes", (c) => {
    const outlier = outlierOf(c);
    if (outlier === undefined) return undefined;
    const enforcing = Number(outlier.enforcing_consecutive_5xx ?? 100);
    if (enforcing === 0) return undefined;
    return about(c, {
      check: "outlier-5xx",
      severity: "warning",
      evidence: {
        field: "outlier_detection.enforcing_consecutive_5xx",
        value: `${enforcing}${outlier.enforcing_consecutive_5xx === undefined ? " (default)" : ""}, consecutive_5xx ${Number(outlier.consecutive_5xx ?? 5)}`,
      },
      why: "a call to a method the server lacks (UNIMPLEMENTED, 501) or a handler's error (UNKNOWN/INTERNAL, 500) counts as a 5xx, so a client's own mistakes eject healthy servers; count gateway and connection failures instead",
      docs: `${DOCS}/intro/arch_overview/upstream/outlier#consecutive-5xx`,
      patch: {
        outlier_detection: {
          enforcing_consecutive_5xx: 0,
          consecutive_gateway_failure: 3,
          enforcing_consecutive_gateway_failure: 100,
          split_external_local_origin_errors: true,
          consecutive_local_origin_failure: 3,
          enforcing_consecutive_local_origin_failure: 100,
        },
      },
    });
  }),
  perCluster("no-health-check", "no active health check", (c) =>
    arr(c.config.health_checks).length > 0 ||
    ["ORIGINAL_DST", "AGGREGATE", "DYNAMIC_FORWARD_PROXY"].includes(c.kind) ||
    // A control plane that sends each endpoint's health, with outlier detection beside it, is Istio's design.
    (c.kind === "EDS" && c.config.outlier_detection !== undefined)
      ? undefined
      : about(c, {
          check: "no-health-check",
          severity: "warning",
          evidence: { field: "health_checks", value: "absent" },
          why: "Envoy learns that a server is gone only from failed calls or the next DNS refresh, and a frozen or NOT_SERVING server keeps getting calls",
          docs: `${DOCS}/intro/arch_overview/upstream/health_checking`,
          patch: {
            health_checks: [GRPC_HEALTH_CHECK],
            ...(c.dns ? { ignore_health_on_host_removal: true } : {}),
          },
        }),
  ),
  perCluster("http-health-check", "an HTTP health check on a gRPC service", (c) => {
    const http = arr(c.config.health_checks).find((h) => h.http_health_check !== undefined);
    if (http === undefined) return undefined;
    return about(c, {
      check: "http-health-check",
      severity: "warning",
      evidence: {
        field: "health_checks[].http_health_check.path",
        value: String(obj(http.http_health_check).path ?? ""),
      },
      why: "a gRPC server answers a plain HTTP GET with an error or not at all: the check fails on healthy servers, or passes on any HTTP server; grpc.health.v1 asks the service itself",
      docs: `${DOCS}/api-v3/config/core/v3/health_check.proto#envoy-v3-api-msg-config-core-v3-healthcheck-grpchealthcheck`,
      patch: { health_checks: [GRPC_HEALTH_CHECK] },
    });
  }),
  perCluster(
    "health-without-host-removal",
    "health checks on a DNS cluster without ignore_health_on_host_removal",
    (c) =>
      c.dns === undefined ||
      arr(c.config.health_checks).length === 0 ||
      c.config.ignore_health_on_host_removal === true
        ? undefined
        : about(c, {
            check: "health-without-host-removal",
            severity: "warning",
            evidence: { field: "ignore_health_on_host_removal", value: "false (default)" },
            why: "a server that left DNS but still passes health checks stays a host and keeps getting calls",
            docs: `${DOCS}/api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-cluster-ignore-health-on-host-removal`,
            patch: { ignore_health_on_host_removal: true },
          }),
  ),
  perCluster("panic-hides-ejection", "the panic threshold next to outlier detection", (c) => {
    const outlier = outlierOf(c);
    if (outlier === undefined) return undefined;
    const maxEjectionPct = Number(outlier.max_ejection_percent ?? 10);
    // A Percent of 0 prints as {}: present without a value is 0, absent is Envoy's 50.
    const threshold = obj(c.config.common_lb_config).healthy_panic_threshold;
    const panicPct = threshold === undefined ? 50 : Number(obj(threshold).value ?? 0);
    if (panicPct === 0 || 100 - maxEjectionPct >= panicPct) return undefined;
    return about(c, {
      check: "panic-hides-ejection",
      severity: "warning",
      evidence: {
        field: "outlier_detection.max_ejection_percent, common_lb_config.healthy_panic_threshold",
        value: `${maxEjectionPct}%, ${panicPct}%`,
      },
      why: `ejections alone can leave fewer than ${panicPct}% of hosts healthy; Envoy then panics and routes to every host, the ejected ones too`,
      docs: `${DOCS}/intro/arch_overview/upstream/load_balancing/panic_threshold`,
      patch: { outlier_detection: { max_ejection_percent: 100 - panicPct } },
    });
  }),
  perCluster("hosts-unhealthy", "hosts unhealthy or ejected now", (c) => {
    if (!hostsJudged(c)) return undefined;
    const bad = c.hosts.filter((h) => h.failed.length > 0);
    if (bad.length === 0 && c.ejectionsActive === 0) return undefined;
    const all = bad.length === c.hosts.length;
    return about(c, {
      check: "hosts-unhealthy",
      severity: all ? "error" : "warning",
      evidence: {
        field: "/clusters health_status",
        value: `${bad.length} of ${c.hosts.length} hosts: ${bad.map((h) => `${h.address} ${h.failed.join("+")}`).join(", ")}${c.ejectionsActive > 0 ? `; ejections_active ${c.ejectionsActive}` : ""}`,
      },
      why: all
        ? "no host can take a call: calls fail with UNAVAILABLE unless the panic threshold routes them to unhealthy hosts"
        : "those hosts get no calls now, and the others carry their share",
      docs: `${DOCS}/operations/admin#get--clusters`,
    });
  }),
];
