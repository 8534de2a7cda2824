import { DOCS } from "../finding.js";
import { arr, obj } from "../view/json.js";
import { about, type Check, GRPC_HEALTH_CHECK, perCluster } from "./check.js";

export const httpHealthCheck: Check = perCluster(
  "http-health-check",
  "an HTTP health check on a gRPC service",
  (c) => {
    const http = arr(c.config.health_checks).find((h) => h.http_health_check !== undefined);
    if (http === undefined) return undefined;
    return about(c, {
      severity: "warning",
      evidence: {
        field: "health_checks[].http_health_check.path",
        value: String(obj(http.http_health_check).path ?? ""),
      },
      why: "a gRPC server answers a plain HTTP GET with an error or not at all: the check fails on healthy servers, or passes on any HTTP server; grpc.health.v1 asks the service itself",
      docs: `${DOCS}/api-v3/config/core/v3/health_check.proto#envoy-v3-api-msg-config-core-v3-healthcheck-grpchealthcheck`,
      patch: { health_checks: [GRPC_HEALTH_CHECK] },
    });
  },
);
