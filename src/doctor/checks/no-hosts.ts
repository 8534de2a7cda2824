import { DOCS } from "../finding.js";
import { about, type Check, hostsJudged, perCluster } from "./check.js";

export const noHosts: Check = perCluster("no-hosts", "a cluster with no host", (c) =>
  !hostsJudged(c) || c.hosts.length > 0
    ? undefined
    : about(c, {
        severity: "error",
        evidence: { field: "/clusters hosts", value: "0" },
        why: "every call through it fails with UNAVAILABLE (no healthy upstream)",
        docs: `${DOCS}/intro/arch_overview/upstream/service_discovery`,
      }),
);
