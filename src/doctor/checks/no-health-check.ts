import { DOCS } from "../finding.js";
import { arr } from "../view/json.js";
import { about, type Check, GRPC_HEALTH_CHECK, perCluster } from "./check.js";

export const noHealthCheck: Check = perCluster("no-health-check", "no active health check", (c) =>
  arr(c.config.health_checks).length > 0 ||
  ["ORIGINAL_DST", "AGGREGATE", "DYNAMIC_FORWARD_PROXY"].includes(c.kind) ||
  // A control plane that sends each endpoint's health, with outlier detection beside it, is Istio's design.
  (c.kind === "EDS" && c.config.outlier_detection !== undefined)
    ? undefined
    : about(c, {
        severity: "warning",
        evidence: { field: "health_checks", value: "absent" },
        why: "Envoy learns that a server is gone only from failed calls or the next DNS refresh, and a frozen or NOT_SERVING server keeps getting calls",
        docs: `${DOCS}/intro/arch_overview/upstream/health_checking`,
        patch: {
          health_checks: [GRPC_HEALTH_CHECK],
          ...(c.dns ? { ignore_health_on_host_removal: true } : {}),
        },
      }),
);
