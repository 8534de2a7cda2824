import { DOCS } from "../finding.js";
import { durationMs, obj } from "../view/json.js";
import { type Check, managerFinding, perManager } from "./check.js";

export const noMaxConnectionDuration: Check = perManager(
  "no-max-connection-duration",
  "no maximum downstream connection duration",
  (place, hcm) => {
    const ms = durationMs(obj(hcm.common_http_protocol_options).max_connection_duration);
    if (ms !== undefined && ms > 0) return undefined;
    return managerFinding(
      place,
      {
        severity: "info",
        evidence: {
          field: "common_http_protocol_options.max_connection_duration",
          value: "absent (forever)",
        },
        why: "matters when several Envoys sit behind an L4 balancer: a client keeps its first Envoy forever, and a new or restarted Envoy gets no old client",
        docs: `${DOCS}/api-v3/config/core/v3/protocol.proto#envoy-v3-api-field-config-core-v3-httpprotocoloptions-max-connection-duration`,
      },
      { common_http_protocol_options: { max_connection_duration: "300s" } },
    );
  },
);
