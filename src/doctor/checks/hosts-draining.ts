import type { HostNow } from "../envoy-view.js";
import { DOCS } from "../finding.js";
import { about, type Check, hostsJudged, perCluster } from "./check.js";

/** The health flags /clusters gives a host on its way out: DRAINING by EDS, or removed by EDS and kept by a passing health check. */
export const LEAVING_FLAGS = ["eds DRAINING", "pending_dynamic_removal"];

/** A host whose only flags say it is leaving (hosts-unhealthy judges the others). */
export const onlyLeaving = (h: HostNow): boolean =>
  h.failed.length > 0 && h.failed.every((f) => LEAVING_FLAGS.includes(f));

export const hostsDraining: Check = perCluster(
  "hosts-draining",
  "hosts draining or removed by the control plane and still kept, now",
  (c) => {
    if (!hostsJudged(c)) return undefined;
    const leaving = c.hosts.filter(onlyLeaving);
    if (leaving.length === 0) return undefined;
    const all = leaving.length === c.hosts.length;
    const kept = leaving.filter((h) => h.failed.includes("pending_dynamic_removal"));
    return about(c, {
      severity: all ? "warning" : "info",
      evidence: {
        field: "/clusters health_status",
        value: `${leaving.length} of ${c.hosts.length} hosts: ${leaving.map((h) => `${h.address} ${h.failed.join("+")}`).join(", ")}`,
      },
      why: `${all ? "no host takes new calls; " : ""}a host draining during a rollout is normal, but one that stays so (read /clusters again) means the control plane never sent its removal${kept.length > 0 ? "; pending_dynamic_removal: the control plane removed it and Envoy keeps it because its health checks pass (ignore_health_on_host_removal unset)" : ""}`,
      docs: `${DOCS}/api-v3/admin/v3/clusters.proto#envoy-v3-api-msg-admin-v3-hosthealthstatus`,
      ...(kept.length > 0 ? { patch: { ignore_health_on_host_removal: true } } : {}),
    });
  },
);
