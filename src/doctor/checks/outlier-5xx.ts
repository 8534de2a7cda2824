import { DOCS } from "../finding.js";
import { about, type Check, outlierOf, perCluster } from "./check.js";

export const outlier5xx: Check = perCluster(
  "outlier-5xx",
  "outlier detection that ejects on statuses a client causes",
  (c) => {
    const outlier = outlierOf(c);
    if (outlier === undefined) return undefined;
    const enforcing = Number(outlier.enforcing_consecutive_5xx ?? 100);
    if (enforcing === 0) return undefined;
    return about(c, {
      severity: "warning",
      evidence: {
        field: "outlier_detection.enforcing_consecutive_5xx",
        value: `${enforcing}${outlier.enforcing_consecutive_5xx === undefined ? " (default)" : ""}, consecutive_5xx ${Number(outlier.consecutive_5xx ?? 5)}`,
      },
      why: "a call to a method the server lacks (UNIMPLEMENTED, 501) or a handler's error (UNKNOWN/INTERNAL, 500) counts as a 5xx, so a client's own mistakes eject healthy servers; count gateway and connection failures instead",
      docs: `${DOCS}/intro/arch_overview/upstream/outlier#consecutive-5xx`,
      patch: {
        outlier_detection: {
          enforcing_consecutive_5xx: 0,
          consecutive_gateway_failure: 3,
          enforcing_consecutive_gateway_failure: 100,
          split_external_local_origin_errors: true,
          consecutive_local_origin_failure: 3,
          enforcing_consecutive_local_origin_failure: 100,
        },
      },
    });
  },
);
