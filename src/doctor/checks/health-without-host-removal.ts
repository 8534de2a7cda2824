import type { ClusterView } from "../envoy-view.js";
import { DOCS } from "../finding.js";
import { arr } from "../view/json.js";
import { about, type Check, perCluster } from "./check.js";

/** A check that clusters of one kind (`of`) with health checks set ignore_health_on_host_removal; `why` says what stays. */
export const withoutHostRemoval = (
  id: string,
  title: string,
  of: (c: ClusterView) => boolean,
  why: string,
): Check =>
  perCluster(id, title, (c) =>
    !of(c) || arr(c.config.health_checks).length === 0 || c.config.ignore_health_on_host_removal === true
      ? undefined
      : about(c, {
          severity: "warning",
          evidence: { field: "ignore_health_on_host_removal", value: "false (default)" },
          why,
          docs: `${DOCS}/api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-cluster-ignore-health-on-host-removal`,
          patch: { ignore_health_on_host_removal: true },
        }),
  );

export const healthWithoutHostRemoval: Check = withoutHostRemoval(
  "health-without-host-removal",
  "health checks on a DNS cluster without ignore_health_on_host_removal",
  (c) => c.dns !== undefined,
  "a server that left DNS but still passes health checks stays a host and keeps getting calls",
);
