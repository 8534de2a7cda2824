import { DOCS } from "../finding.js";
import { obj } from "../view/json.js";
import { about, assumingGrpc, type Check, dnsPatch, perCluster } from "./check.js";

export const logicalDns: Check = assumingGrpc(
  perCluster("logical-dns", "LOGICAL_DNS uses one address of the name at a time", (c) =>
    c.kind !== "LOGICAL_DNS"
      ? undefined
      : about(c, {
          severity: "error",
          evidence: {
            field:
              obj(c.config.cluster_type).name === undefined
                ? "type"
                : "DnsCluster.all_addresses_in_single_endpoint",
            value: obj(c.config.cluster_type).name === undefined ? "LOGICAL_DNS" : "true",
          },
          why: "Envoy connects to one address of the name at a time, so every call lands on one server; STRICT_DNS makes each A record a host",
          docs: `${DOCS}/intro/arch_overview/upstream/service_discovery#logical-dns`,
          patch: dnsPatch(
            c,
            obj(c.config.cluster_type).name === undefined
              ? { type: "STRICT_DNS" }
              : { all_addresses_in_single_endpoint: false },
          ),
        }),
  ),
);
