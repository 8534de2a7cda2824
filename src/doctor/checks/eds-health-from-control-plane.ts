import { DOCS } from "../finding.js";
import { arr } from "../view/json.js";
import { type Check, GRPC_HEALTH_CHECK, outlierOf } from "./check.js";
import { groupedPerCluster } from "./grouped.js";

export const edsHealthFromControlPlane: Check = groupedPerCluster(
  "eds-health-from-control-plane",
  "EDS clusters whose hosts' health comes from the control plane alone",
  (c) => c.kind === "EDS" && arr(c.config.health_checks).length === 0 && outlierOf(c) === undefined,
  {
    // A design many meshes choose (the control plane follows readiness): worth knowing, not wrong.
    severity: "info",
    field: "health_checks, outlier_detection",
    value: "both absent",
    why: "Envoy drops a host only when the control plane says so: a server that dies or freezes keeps getting calls until its readiness fails and the push arrives, and a control plane that is down says nothing",
    docs: `${DOCS}/intro/arch_overview/upstream/service_discovery#on-eventually-consistent-service-discovery`,
    patch: {
      outlier_detection: { consecutive_5xx: 5, interval: "1s", base_ejection_time: "10s" },
      health_checks: [GRPC_HEALTH_CHECK],
      ignore_health_on_host_removal: true,
    },
  },
);
