import { DOCS } from "../finding.js";
import { about, type Check, dnsPatch, perCluster } from "./check.js";

export const dnsRefreshSlow: Check = perCluster(
  "dns-refresh-slow",
  "DNS refreshed less often than every 5 s",
  (c) =>
    c.dns === undefined || c.dns.respectTtl || c.dns.refreshMs <= 5000
      ? undefined
      : about(c, {
          severity: "warning",
          evidence: { field: "dns_refresh_rate", value: `${c.dns.refreshMs / 1000}s` },
          why: "a new server gets calls only after the next refresh, and a removed one keeps getting them until then",
          docs: `${DOCS}/api-v3/extensions/clusters/dns/v3/dns_cluster.proto`,
          patch: dnsPatch(c, { dns_refresh_rate: "5s" }),
        }),
);
