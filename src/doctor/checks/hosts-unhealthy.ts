import { DOCS } from "../finding.js";
import { about, type Check, hostsJudged, perCluster } from "./check.js";
import { onlyLeaving } from "./hosts-draining.js";

export const hostsUnhealthy: Check = perCluster("hosts-unhealthy", "hosts unhealthy or ejected now", (c) => {
  if (!hostsJudged(c)) return undefined;
  // Hosts on their way out (DRAINING, pending removal) are hosts-draining's.
  const bad = c.hosts.filter((h) => h.failed.length > 0 && !onlyLeaving(h));
  if (bad.length === 0 && c.ejectionsActive === 0) return undefined;
  const all = bad.length === c.hosts.length;
  return about(c, {
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
});
