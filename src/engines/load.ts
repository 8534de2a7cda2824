import { type PacedLoad, type PacedLoadOptions, startPacedLoad } from "../loadgen/paced-load.js";
import type { EngineTarget } from "./target.js";

/**
 * The steady load of every engine scenario: 200 calls/s over one channel, at most 8 in
 * flight, bounded to 150 s and 30 000 calls (production timings make these scenarios
 * longer than the lab's).
 */
export const ENGINE_LOAD: Omit<PacedLoadOptions, "target" | "signal"> = {
  ratePerSec: 200,
  concurrency: 8,
  maxRequests: 30_000,
  maxDurationMs: 150_000,
  deadlineMs: 5000,
};

/** Calls that must have finished before a scenario changes anything: the load is flowing. */
export const WARM_UP_CALLS = 200;

/**
 * Runs `body` under the steady load through the target's Envoy, after a warm-up, and
 * always stops the load (also when `body` throws or `signal` fires).
 */
export async function underLoad<T>(
  target: EngineTarget,
  signal: AbortSignal | undefined,
  body: (load: PacedLoad) => Promise<T>,
): Promise<T> {
  const load = startPacedLoad({
    ...ENGINE_LOAD,
    target: target.listenAddress,
    ...(signal ? { signal } : {}),
  });
  try {
    await load.waitForResults(WARM_UP_CALLS, 10_000);
    return await body(load);
  } finally {
    await load.stop();
  }
}
