import { DOCS } from "../finding.js";
import { durationMs } from "../view/json.js";
import { type Check, perRoute, routeFinding } from "./check.js";

export const routeTimeout: Check = perRoute(
  "route-timeout",
  "a route timeout that cuts long calls and streams",
  (r) => {
    const timeoutMs = r.route.timeout === undefined ? 15_000 : (durationMs(r.route.timeout) ?? 15_000);
    if (timeoutMs === 0) return undefined;
    return routeFinding(
      r,
      {
        severity: "warning",
        evidence: {
          field: "route.timeout",
          value: r.route.timeout === undefined ? "15s (default)" : String(r.route.timeout),
        },
        why: "every call or stream still open after it ends with a 504 (UNAVAILABLE to the client), whatever deadline the client set: a long-lived stream (a subscription, a watch) through this route is cut at that age every time",
        docs: `${DOCS}/faq/configuration/timeouts#route-timeouts`,
      },
      { timeout: "0s", max_stream_duration: { grpc_timeout_header_max: "0s" } },
    );
  },
);
