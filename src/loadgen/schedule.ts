/**
 * When calls start. Closed loop keeps `concurrency` calls in flight, each
 * starting when one ends; the others are open loop at a rate in calls/s
 * (ghz's schedules: const, step, line), still capped by `concurrency`.
 */
export type Schedule =
  | { kind: "closed" }
  | { kind: "const"; rps: number }
  /**
   * `startRps`, then `stepRps` more (or less, if negative) every `stepDurationMs`; the rate is held once it
   * reaches `endRps` or after `maxRampMs` (null: no such limit).
   */
  | {
      kind: "step";
      startRps: number;
      endRps: number | null;
      stepRps: number;
      stepDurationMs: number;
      maxRampMs: number | null;
    }
  /** From `startRps`, changing by `stepRps` per second continuously; held as for step. */
  | { kind: "line"; startRps: number; endRps: number | null; stepRps: number; maxRampMs: number | null };

/** The lowest rate a ramp may fall to, in calls/s: a ramp never stops the load. */
const MIN_RPS = 0.1;

/** The target rate at `tMs` since the load started, in calls/s; undefined for a closed loop. */
export function rateAt(s: Schedule, tMs: number): number | undefined {
  switch (s.kind) {
    case "closed":
      return undefined;
    case "const":
      return s.rps;
    case "step":
      return clampRamp(s.startRps + s.stepRps * Math.floor(rampMs(s, tMs) / s.stepDurationMs), s);
    case "line":
      return clampRamp(s.startRps + (s.stepRps * rampMs(s, tMs)) / 1000, s);
  }
}

const rampMs = (s: { maxRampMs: number | null }, tMs: number): number =>
  s.maxRampMs === null ? tMs : Math.min(tMs, s.maxRampMs);

function clampRamp(rps: number, s: { startRps: number; endRps: number | null; stepRps: number }): number {
  let r = rps;
  if (s.endRps !== null) r = s.stepRps >= 0 ? Math.min(r, s.endRps) : Math.max(r, s.endRps);
  return Math.max(MIN_RPS, r);
}

/**
 * When the call after one due at `prevDueMs` is due: one period of the rate at
 * that moment later. The caller takes max(now, this), so after a stall the
 * load resumes at its rate instead of bursting to catch up.
 */
export function nextDueMs(s: Schedule, prevDueMs: number): number {
  const rps = rateAt(s, prevDueMs);
  return rps === undefined ? prevDueMs : prevDueMs + 1000 / rps;
}

/** When the call `steps` calls after one due at `prevDueMs` is due (nextDueMs `steps` times). */
export function advanceDueMs(s: Schedule, prevDueMs: number, steps: number): number {
  if (s.kind === "const") return prevDueMs + (steps * 1000) / s.rps;
  let due = prevDueMs;
  for (let k = 0; k < steps; k++) due = nextDueMs(s, due);
  return due;
}

/** Calls an ideal open-loop schedule starts in [0, durationMs): for tests and for sizing. */
export function expectedCalls(s: Schedule, durationMs: number): number {
  if (s.kind === "closed") return Number.POSITIVE_INFINITY;
  let n = 0;
  for (let due = 0; due < durationMs; due = nextDueMs(s, due)) n += 1;
  return n;
}

/** One line describing the schedule, for the text report. */
export function describeSchedule(s: Schedule): string {
  switch (s.kind) {
    case "closed":
      return "closed loop";
    case "const":
      return `${s.rps} calls/s`;
    case "step":
      return `step from ${s.startRps} calls/s by ${s.stepRps} every ${s.stepDurationMs} ms${s.endRps === null ? "" : ` to ${s.endRps}`}`;
    case "line":
      return `line from ${s.startRps} calls/s by ${s.stepRps}/s${s.endRps === null ? "" : ` to ${s.endRps}`}`;
  }
}
