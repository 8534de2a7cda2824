import { DOCS } from "../finding.js";
import { durationMs } from "../view/json.js";
import { type Check, perRoute, routeFinding } from "./check.js";

/** HCM stream_idle_timeout's default, in ms. */
const STREAM_IDLE_DEFAULT_MS = 300_000;

export const routeIdleTimeout: Check = perRoute(
  "route-idle-timeout",
  "a route idle timeout that cuts quiet streams",
  (r) => {
    const idleMs = durationMs(r.route.idle_timeout);
    if (idleMs === undefined || idleMs === 0 || idleMs >= STREAM_IDLE_DEFAULT_MS) return undefined;
    return routeFinding(
      r,
      {
        severity: "warning",
        evidence: { field: "route.idle_timeout", value: String(r.route.idle_timeout) },
        why: "a stream that sends nothing for that long (a watch, a quiet server stream) is reset",
        docs: `${DOCS}/faq/configuration/timeouts#route-timeouts`,
      },
      { idle_timeout: "300s" },
    );
  },
);
