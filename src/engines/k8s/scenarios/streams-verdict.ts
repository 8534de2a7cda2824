import type { StreamReport } from "../../../loadgen/streams/stream-report.js";
import { check, type ScenarioCheck, type ScenarioReport } from "../../../scenarios/report.js";

/**
 * The Subscribe calls of a stream run, as a report's requests: every stream's first call and
 * each resume is one; a call that ended with a status other than OK failed (the client saw an
 * error, even though it resumed). Calls still open at the end, or cancelled by the stop, are ok.
 */
export function streamCalls(r: StreamReport): ScenarioReport["requests"] {
  const errors: Record<string, number> = {};
  for (const [code, n] of Object.entries(r.endsByStatus)) if (code !== "OK") errors[code] = n;
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  const total = r.streams + r.resumes;
  return { total, ok: total - failed, failed, errors };
}

/**
 * The headline check of a stream run, as noFailedCalls is for calls: it counts every failure —
 * calls that ended with an error, replies lost or duplicated, streams that gave up.
 */
export function noFailedStreams(r: StreamReport): ScenarioCheck {
  const calls = streamCalls(r);
  const list = Object.entries(calls.errors).map(([k, v]) => `${k} ${v}`);
  const why = r.failures.length > 0 ? `; first gave up: ${r.failures[0]}` : "";
  return check(
    "no failed stream, nothing lost or duplicated",
    calls.failed === 0 && r.lost === 0 && r.duplicated === 0 && r.failedStreams === 0,
    `${calls.failed} of ${calls.total} Subscribe calls failed${list.length > 0 ? ` (${list.join(", ")})` : ""}; ` +
      `${r.lost} lost, ${r.duplicated} duplicated of ${r.delivered} replies; ` +
      `${r.failedStreams} of ${r.streams} streams gave up${why}`,
  );
}
