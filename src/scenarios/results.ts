import type { RequestResult } from "../loadgen/paced-load.js";

// What a scenario reads from its calls' results (start and end times on the load's clock),
// the lab's and the engines' scenarios alike; replies per server are report.ts's distribution().

/** The start time of the last call `serverId` answered that ended before `beforeMs`, or undefined if none. */
export function lastReplyMs(
  results: readonly RequestResult[],
  serverId: string,
  beforeMs = Number.POSITIVE_INFINITY,
): number | undefined {
  let last: number | undefined;
  for (const r of results) {
    if (r.serverId === serverId && r.endMs < beforeMs && (last === undefined || r.startMs > last))
      last = r.startMs;
  }
  return last;
}

/** The start time of the first call `serverId` answered that started at or after `fromMs`, or undefined. */
export function firstCallAt(
  results: readonly RequestResult[],
  serverId: string,
  fromMs = 0,
): number | undefined {
  let first: number | undefined;
  for (const r of results) {
    if (r.serverId === serverId && r.startMs >= fromMs && (first === undefined || r.startMs < first)) {
      first = r.startMs;
    }
  }
  return first;
}

/**
 * When each of `serverIds` first answered a call started at or after `fromMs`, once
 * every one has; undefined while one has not (a predicate for a wait).
 */
export function firstReplies(
  results: readonly RequestResult[],
  serverIds: readonly string[],
  fromMs: number,
): Map<string, number> | undefined {
  const first = new Map<string, number>();
  for (const id of serverIds) {
    const at = firstCallAt(results, id, fromMs);
    if (at === undefined) return undefined;
    first.set(id, at);
  }
  return first;
}

/** How many finished calls started at or after `fromMs`. */
export const callsStartedSince = (results: readonly RequestResult[], fromMs: number): number =>
  results.reduce((n, r) => (r.startMs >= fromMs ? n + 1 : n), 0);

/** `to - from` rounded to 0.1 ms, or -1 when either is unknown. */
export const span = (from: number | undefined, to: number | undefined): number =>
  from === undefined || to === undefined ? -1 : Math.round((to - from) * 10) / 10;
