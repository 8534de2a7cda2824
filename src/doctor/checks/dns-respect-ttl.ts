import { DOCS } from "../finding.js";
import { about, type Check, dnsPatch, perCluster } from "./check.js";

export const dnsRespectTtl: Check = perCluster(
  "dns-respect-ttl",
  "the DNS refresh follows the records' TTL",
  (c) =>
    c.dns === undefined || !c.dns.respectTtl
      ? undefined
      : about(c, {
          severity: "warning",
          evidence: { field: "respect_dns_ttl", value: "true" },
          why: "Envoy re-resolves only when the TTL runs out, so the records' TTL, not dns_refresh_rate, decides how late new and removed servers are seen",
          docs: `${DOCS}/api-v3/extensions/clusters/dns/v3/dns_cluster.proto`,
          patch: dnsPatch(c, { respect_dns_ttl: false, dns_refresh_rate: "5s" }),
        }),
);
