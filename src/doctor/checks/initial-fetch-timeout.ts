import type { ClusterView } from "../envoy-view.js";
import { DOCS } from "../finding.js";
import { durationMs, obj } from "../view/json.js";
import type { Check } from "./check.js";
import { groupedPerCluster } from "./grouped.js";

/** Envoy's initial_fetch_timeout when a ConfigSource sets none, in ms (config_source.proto). */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

/** Absent is Envoy's 15 s, a bound: only an explicit 0 waits for ever. */
const waitsForEver = (c: ClusterView): boolean =>
  c.kind === "EDS" &&
  (durationMs(obj(obj(c.config.eds_cluster_config).eds_config).initial_fetch_timeout) ??
    DEFAULT_INITIAL_FETCH_TIMEOUT_MS) === 0;

export const initialFetchTimeout: Check = groupedPerCluster(
  "initial-fetch-timeout",
  "EDS clusters that wait for ever for their first assignment (initial_fetch_timeout 0)",
  waitsForEver,
  {
    // Right behind a readiness probe (the pod stays out of rotation until configured), wrong for an Envoy that must come up alone.
    severity: "info",
    field: "eds_cluster_config.eds_config.initial_fetch_timeout",
    value: "0s (wait for ever)",
    why: "an Envoy that starts while its control plane is down never finishes starting (no listener), and a cluster added by CDS stays warming until its endpoints come; with a timeout it starts with no host and its calls fail 'no healthy upstream' until they do",
    docs: `${DOCS}/api-v3/config/core/v3/config_source.proto#envoy-v3-api-field-config-core-v3-configsource-initial-fetch-timeout`,
    patch: { eds_cluster_config: { eds_config: { initial_fetch_timeout: "15s" } } },
  },
);
