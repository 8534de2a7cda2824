import { DOCS } from "../finding.js";
import { arr } from "../view/json.js";
import { about, type Check, perCluster } from "./check.js";

export const healthWithoutHostRemoval: Check = perCluster(
  "health-without-host-removal",
  "health checks on a DNS cluster without ignore_health_on_host_removal",
  (c) =>
    c.dns === undefined ||
    arr(c.config.health_checks).length === 0 ||
    c.config.ignore_health_on_host_removal === true
      ? undefined
      : about(c, {
          severity: "warning",
          evidence: { field: "ignore_health_on_host_removal", value: "false (default)" },
          why: "a server that left DNS but still passes health checks stays a host and keeps getting calls",
          docs: `${DOCS}/api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-cluster-ignore-health-on-host-removal`,
          patch: { ignore_health_on_host_removal: true },
        }),
);
