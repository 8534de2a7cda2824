import { LabError } from "../errors.js";
import { type PacedLoad, type RequestResult, startPacedLoad } from "../loadgen/paced-load.js";
import type { ScenarioContext, ScenarioLoad, ScenarioTarget } from "./scenario.js";

/** How long a wait inside a scenario may take by default, in ms. */
export const WAIT_MS = 20_000;
/** Deadline of each call of the paced load by default, in ms: past its time bound, every call has ended by then. */
export const CALL_DEADLINE_MS = 5000;

/** Hard bounds of a scenario's paced load: it stops by itself at the first one reached. */
export interface LoadBounds {
  /** Most calls in all. */
  maxRequests: number;
  /** Longest the load runs, in ms. */
  maxDurationMs: number;
}

/** The lab's bounds: 60 s and 12 000 calls. */
export const LAB_LOAD: LoadBounds = { maxRequests: 12_000, maxDurationMs: 60_000 };

/** Calls per second of the steady load every paced scenario runs under. */
export const SCENARIO_RATE_PER_SEC = 200;

/** The steady load: 200 calls/s over `connections` channels, at most 8 in flight, within `bounds`. */
/** Calls in flight at most under a scenario's load: a fault can cut no more replies than this. */
export const SCENARIO_CONCURRENCY = 8;

export function startScenarioLoad(
  target: ScenarioTarget,
  bounds: LoadBounds,
  signal: AbortSignal,
  deadlineMs = CALL_DEADLINE_MS,
  connections = 1,
): PacedLoad {
  return startPacedLoad({
    signal,
    target: target.listenAddress,
    ...(target.tls === undefined ? {} : { tls: target.tls }),
    ratePerSec: SCENARIO_RATE_PER_SEC,
    concurrency: SCENARIO_CONCURRENCY,
    connections,
    maxRequests: bounds.maxRequests,
    maxDurationMs: bounds.maxDurationMs,
    deadlineMs,
  });
}

export function scenarioLoad(
  name: string,
  paced: PacedLoad | undefined,
  bounds: LoadBounds,
  wait: ScenarioContext<unknown>["waitFor"],
  deadlineMs = CALL_DEADLINE_MS,
): ScenarioLoad {
  const need = (): PacedLoad => {
    if (paced === undefined) throw new LabError(`scenario ${name} has no paced load`);
    return paced;
  };
  // Once the load has stopped by its bounds no more results come: say which bound, not what was awaited.
  const boundReached = (p: PacedLoad): string | undefined => {
    if (p.results.length >= bounds.maxRequests)
      return `the load reached its bound of ${bounds.maxRequests} calls (maxRequests)`;
    if (p.now() >= bounds.maxDurationMs + deadlineMs)
      return `the load reached its bound of ${bounds.maxDurationMs} ms (maxDurationMs)`;
    return undefined;
  };
  const load: ScenarioLoad = {
    now: () => need().now(),
    get results() {
      return need().results;
    },
    waitUntil(what, pick, timeoutMs = WAIT_MS) {
      const p = need();
      return wait(
        what,
        () => {
          const value = pick(p.results);
          if (value !== undefined) return value;
          const bound = boundReached(p);
          // A plain error: the runner wraps it under the scenario's name and area.
          if (bound !== undefined) throw new Error(`${bound} before ${what}`);
          return undefined;
        },
        timeoutMs,
        () => `${p.results.length} calls finished`,
      );
    },
    async waitForMore(more, timeoutMs = WAIT_MS) {
      const n = need().results.length + more;
      await load.waitUntil(
        `${more} more calls through Envoy (${n} in all)`,
        (results: readonly RequestResult[]) => (results.length >= n ? true : undefined),
        timeoutMs,
      );
    },
    finish: () => need().stop(),
  };
  return load;
}
