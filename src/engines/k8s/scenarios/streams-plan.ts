import { EngineError } from "../../../errors.js";
import {
  DEFAULT_STREAMS_TIMINGS,
  STRATEGIES,
  type StrategyName,
  type StreamsTimings,
  slackMs,
} from "../../../lab/scenarios/streams-strategies.js";
import type { StreamSample } from "../../../loadgen/streams/stream-report.js";

/** The strategy docs/streams.md recommends, the one the lab's scenario holds to its fair-share budget. */
export const K8S_STREAMS_STRATEGY: StrategyName = "server-lifetime";

/**
 * The lab's times, with a 4 s lifetime instead of 6 s: the scenario waits for a lifetime twice
 * (after the scale-out and after the rollout), and stays within two minutes.
 */
export const K8S_STREAMS_TIMINGS: StreamsTimings = { ...DEFAULT_STREAMS_TIMINGS, rebalanceMs: 4000 };

/** The server's flag of the strategy (grpc-lb serve). */
export const LIFETIME_FLAG = "--max-stream-lifetime-ms";

/** `args` with the servers' maximum stream lifetime set to `ms`: an earlier setting is replaced. */
export function withStreamLifetime(args: readonly string[], ms: number): string[] {
  const kept = args.filter(
    (a, i) => a !== LIFETIME_FLAG && args[i - 1] !== LIFETIME_FLAG && !a.startsWith(`${LIFETIME_FLAG}=`),
  );
  return [...kept, LIFETIME_FLAG, String(ms)];
}

/** The longest a stream opened before an operation lives on, in ms (the strategy's time). */
export function streamAgeMs(t: StreamsTimings): number {
  const age = STRATEGIES[K8S_STREAMS_STRATEGY].streamAgeMs(t);
  if (age === undefined) throw new EngineError(`strategy ${K8S_STREAMS_STRATEGY} never moves a stream`);
  return age;
}

/** What an operation's fair-share budget is made of, each in ms. */
export interface FairShareBudget {
  /** From the operation to its last new pod Ready, as measured (the pods' start). */
  podsReadyMs: number;
  /** Worst case for Envoy to route to the new pods (and away from removed ones). */
  hostsMs: number;
  /** The strategy's stream age: every stream opened before has ended by then. */
  ageMs: number;
  /** For streams to resume and be sampled. */
  slackMs: number;
  totalMs: number;
}

/** From an operation: its pods start, Envoy follows, every older stream lives out its age and resumes. */
export function fairShareBudget(podsReadyMs: number, hostsMs: number, t: StreamsTimings): FairShareBudget {
  const ageMs = streamAgeMs(t);
  const slack = slackMs(t);
  const totalMs = Math.round(podsReadyMs + hostsMs + ageMs + slack);
  return { podsReadyMs: Math.round(podsReadyMs), hostsMs, ageMs, slackMs: slack, totalMs };
}

export const describeBudget = (b: FairShareBudget): string =>
  `budget ${b.totalMs} ms: pods Ready ${b.podsReadyMs} + Envoy ${b.hostsMs} + stream age ${b.ageMs} + slack ${b.slackMs}`;

/**
 * Streams per server every `stepMs` from `fromMs` until `toMs` (each row the last sample at or
 * before its time), then `last`, the streams per server at `toMs`; `servers` in their order with
 * 0 where none: the report's distributions, labelled "LABEL +N s".
 */
export function streamsTimeline(
  samples: readonly StreamSample[],
  label: string,
  w: { fromMs: number; toMs: number; stepMs: number },
  servers: readonly string[],
  last: Record<string, number>,
): { phase: string; backends: Record<string, number> }[] {
  const row = (t: number, byServer: Record<string, number>) => {
    const backends: Record<string, number> = {};
    for (const id of servers) backends[id] = byServer[id] ?? 0;
    for (const [id, n] of Object.entries(byServer)) backends[id] ??= n;
    return { phase: `${label} +${((t - w.fromMs) / 1000).toFixed(1)} s`, backends };
  };
  const rows: { phase: string; backends: Record<string, number> }[] = [];
  for (let t = w.fromMs; t < w.toMs; t += w.stepMs) {
    const s = samples.findLast((x) => x.atMs <= t);
    if (s !== undefined) rows.push(row(t, s.byServer));
  }
  return [...rows, row(w.toMs, last)];
}

/**
 * When `server` held its last stream: the first sample after the last one that showed it
 * holding any, at or after `fromMs`; undefined while it still holds some.
 */
export function streamsGoneAt(
  samples: readonly StreamSample[],
  server: string,
  fromMs: number,
): number | undefined {
  const last = samples.findLastIndex((s) => (s.byServer[server] ?? 0) > 0);
  const after = samples.slice(last + 1).find((s) => s.atMs >= fromMs);
  return after?.atMs;
}
