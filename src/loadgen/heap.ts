import { setFlagsFromString } from "node:v8";

/**
 * Keeps V8's young generation at its starting size for the rest of the
 * process. A load's garbage dies young, but its allocation rate makes V8 grow
 * the young generation to its 16 MB semi-spaces (32 MB resident, plus what
 * the bigger nursery promotes), which is most of what a run adds to its RSS.
 * V8 reads its growth factor each time it would grow the space, so, unlike
 * --max-semi-space-size, it can be set once the process runs (and is refused
 * in NODE_OPTIONS). Worker threads get the same bound from their resourceLimits.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
}
