import { DOCS } from "../finding.js";
import { durationMs } from "../view/json.js";
import { type Check, managerFinding, perManager } from "./check.js";

/** HCM stream_idle_timeout's default, in ms. */
const STREAM_IDLE_DEFAULT_MS = 300_000;

export const streamIdleTimeout: Check = perManager(
  "stream-idle-timeout",
  "a stream idle timeout that cuts quiet streams",
  (place, hcm) => {
    const idleMs = durationMs(hcm.stream_idle_timeout);
    if (idleMs === undefined || idleMs === 0 || idleMs >= STREAM_IDLE_DEFAULT_MS) return undefined;
    return managerFinding(
      place,
      {
        severity: "warning",
        evidence: { field: "stream_idle_timeout", value: String(hcm.stream_idle_timeout) },
        why: "every stream through this listener that is quiet for that long is reset: a long-lived stream that waits longer than that between two messages (a watch with nothing to report) fails, not only a stuck one",
        docs: `${DOCS}/faq/configuration/timeouts#stream-timeouts`,
      },
      { stream_idle_timeout: "300s" },
    );
  },
);
