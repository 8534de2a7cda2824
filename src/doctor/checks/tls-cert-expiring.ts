import { DOCS } from "../finding.js";
import { type Check, check } from "./check.js";

const DAY_MS = 86_400_000;
/** Warn within this many days of expiry… */
const WARN_DAYS = 30;
/**
 * …once less than this share of its lifetime is left: short-lived certificates that are renewed
 * on schedule (cert-manager renews at two thirds by default) are not late just for being short.
 */
const RENEW_SHARE = 1 / 3;

export const tlsCertExpiring: Check = check(
  "tls-cert-expiring",
  "a certificate that expires within 30 days",
  (scope) =>
    (scope.view.certs ?? []).flatMap((cert) => {
      const now = Date.now();
      const leftMs = Number.isNaN(cert.expiresMs) ? cert.daysLeft * DAY_MS : cert.expiresMs - now;
      const lifetimeMs = cert.expiresMs - cert.validFromMs;
      const late = Number.isNaN(lifetimeMs) || leftMs < lifetimeMs * RENEW_SHARE;
      if (leftMs >= WARN_DAYS * DAY_MS || !late) return [];
      const expired = leftMs <= 0;
      const what = cert.kind === "ca_cert" ? "trusted CA" : "certificate";
      return [
        {
          severity: expired ? ("error" as const) : ("warning" as const),
          subject: `${what} ${cert.path || "(no path)"}${cert.serial ? ` serial ${cert.serial}` : ""}`,
          evidence: {
            field: `/certs ${cert.kind}.expiration_time`,
            value: `${Number.isNaN(cert.expiresMs) ? "?" : new Date(cert.expiresMs).toISOString()} (${expired ? "expired" : `${Math.floor(leftMs / DAY_MS)} days left`})`,
          },
          why: expired
            ? "handshakes with it fail now (certificate expired): every connection on that listener or to that cluster is refused"
            : "once it expires every handshake with it fails; renew it, and deliver it by SDS from a watched file so that Envoy loads it without a restart",
          docs: `${DOCS}/operations/admin#get--certs`,
        },
      ];
    }),
);
