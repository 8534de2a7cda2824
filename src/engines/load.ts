import type { LoadBounds } from "../scenarios/scenario-load.js";

/**
 * Bounds of every engine scenario's steady load (the runner's 200 calls/s over one channel,
 * at most 8 in flight): 150 s and 30 000 calls, since production timings make these
 * scenarios longer than the lab's.
 */
export const ENGINE_LOAD: LoadBounds = { maxRequests: 30_000, maxDurationMs: 150_000 };
