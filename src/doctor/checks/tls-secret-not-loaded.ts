import { DOCS } from "../finding.js";
import { type Check, check } from "./check.js";

export const tlsSecretNotLoaded: Check = check(
  "tls-secret-not-loaded",
  "an SDS secret that is not loaded",
  (scope) =>
    scope.view.secrets
      .filter((s) => s.state === "warming")
      .map((s) => ({
        severity: "error" as const,
        subject: `secret ${s.name}`,
        evidence: { field: "SecretsConfigDump dynamic_warming_secrets", value: s.name },
        why: "every TLS context that uses it refuses connections until it loads: its file is missing or unreadable, its certificate and key do not match, or the control plane has not sent it",
        docs: `${DOCS}/configuration/security/secret`,
      })),
);
