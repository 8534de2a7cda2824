import { DOCS } from "../finding.js";
import { type Check, perRoute, retryOf, routeFinding } from "./check.js";

/** retry_on conditions that retry a call a lost or refusing server failed (gRPC's UNAVAILABLE among them). */
const RETRYABLE = ["unavailable", "reset", "connect-failure", "refused-stream", "5xx", "gateway-error"];

export const noRetry: Check = perRoute(
  "no-retry",
  "no retry for unavailable, reset or connect-failure on a gRPC route",
  (r) => {
    const retryOn = String(retryOf(r)?.retry_on ?? "");
    if (
      RETRYABLE.some((c) =>
        retryOn
          .split(",")
          .map((s) => s.trim())
          .includes(c),
      )
    )
      return undefined;
    return routeFinding(
      r,
      {
        severity: "warning",
        evidence: { field: "retry_policy.retry_on", value: retryOn === "" ? "absent" : retryOn },
        why: "a call that reaches a server as it stops, or a connection refused, fails back to the client although another server could take it",
        docs: `${DOCS}/configuration/http/http_filters/router_filter#x-envoy-retry-grpc-on`,
      },
      {
        retry_policy: {
          retry_on: "unavailable,reset,connect-failure,refused-stream",
          num_retries: 2,
          per_try_timeout: "2s",
          retry_host_predicate: [
            {
              name: "envoy.retry_host_predicates.previous_hosts",
              typed_config: {
                "@type":
                  "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
              },
            },
          ],
          host_selection_retry_max_attempts: 3,
        },
      },
    );
  },
);
