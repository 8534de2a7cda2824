import { isIP } from "node:net";
import { DOCS } from "../finding.js";
import { type Check, check } from "./check.js";

export const adminExposed: Check = check(
  "admin-exposed",
  "the admin API listening beyond loopback",
  (scope) => {
    const address = scope.view.adminAddress;
    const host = address.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    const loopback =
      host === "" || host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
    if (loopback || isIP(host) === 0) return [];
    return [
      {
        severity: "error",
        subject: "admin",
        evidence: { field: "admin.address", value: address },
        why: "anyone who reaches it can stop Envoy (/quitquitquit), fail its health check, change log levels and read its whole configuration",
        docs: `${DOCS}/operations/admin`,
        fix: {
          target: { kind: "admin" },
          patch: { address: { socket_address: { address: "127.0.0.1" } } },
        },
      },
    ];
  },
);
