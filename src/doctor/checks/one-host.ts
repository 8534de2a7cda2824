import { DOCS } from "../finding.js";
import { type Check, hostsJudged, perCluster } from "./check.js";

export const oneHost: Check = perCluster(
  "one-host",
  "one host only: the signature of a ClusterIP or L4 balancer behind Envoy",
  (c) =>
    !hostsJudged(c) || c.hosts.length !== 1 || c.kind === "LOGICAL_DNS"
      ? undefined
      : {
          severity: "warning",
          subject: `cluster ${c.name}`,
          evidence: {
            field: "/clusters hosts",
            value: `1 (${c.hosts[0]?.address ?? ""}${c.dns ? ` for ${c.dns.names.join(", ")}` : ""})`,
          },
          why: "per-request balancing has one server to choose; if that address is a Kubernetes ClusterIP or another connection balancer, it pins each of Envoy's connections to one pod",
          docs: `${DOCS}/intro/arch_overview/upstream/service_discovery#strict-dns`,
          fix: {
            target: { kind: "outside" },
            note: "a headless Service, so that DNS answers every pod's address (and STRICT_DNS on its name)",
            patch: { apiVersion: "v1", kind: "Service", spec: { clusterIP: "None" } },
          },
        },
);
