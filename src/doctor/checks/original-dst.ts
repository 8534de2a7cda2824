import { DOCS } from "../finding.js";
import { about, type Check, perCluster } from "./check.js";

export const originalDst: Check = perCluster(
  "original-dst",
  "ORIGINAL_DST follows each connection's destination",
  (c) =>
    c.kind !== "ORIGINAL_DST"
      ? undefined
      : about(c, {
          severity: "warning",
          evidence: { field: "type", value: "ORIGINAL_DST" },
          why: "each call goes where its downstream connection was going, so Envoy does not choose a server per request",
          docs: `${DOCS}/intro/arch_overview/upstream/service_discovery#original-destination`,
        }),
);
