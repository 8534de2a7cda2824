import { DOCS } from "../finding.js";
import { type Check, perRoute, retryOf, routeFinding } from "./check.js";

export const retryNoPerTryTimeout: Check = perRoute(
  "retry-no-per-try-timeout",
  "retries with no per-try timeout",
  (r) => {
    const retry = retryOf(r);
    if (retry === undefined || retry.retry_on === undefined || retry.per_try_timeout !== undefined)
      return undefined;
    return routeFinding(
      r,
      {
        severity: "warning",
        evidence: { field: "retry_policy.per_try_timeout", value: "absent" },
        why: "a try on a frozen server waits for the whole route timeout or the client's deadline, so no retry is left to make",
        docs: `${DOCS}/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-retrypolicy-per-try-timeout`,
      },
      { retry_policy: { per_try_timeout: "2s" } },
    );
  },
);
