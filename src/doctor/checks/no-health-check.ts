import { DOCS } from "../finding.js";
import { arr } from "../view/json.js";
import { about, type Check, GRPC_HEALTH_CHECK, perCluster } from "./check.js";

export const noHealthCheck: Check = perCluster("no-health-check", "no active health check", (c) =>
  arr(c.config.health_checks).length > 0 ||
  // Hosts found by DNS or listed in the file: only Envoy can tell one is gone. EDS gets each
  // endpoint's health from its control plane; the other kinds pick a host per request.
  !["STRICT_DNS", "LOGICAL_DNS", "STATIC"].includes(c.kind)
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
