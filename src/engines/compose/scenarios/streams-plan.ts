import type { EngineBudgets } from "../../../envoy/budgets.js";
import {
  DEFAULT_STREAMS_TIMINGS,
  STRATEGIES,
  type StrategyName,
  type StreamsTimings,
  slackMs,
} from "../../../lab/scenarios/streams-strategies.js";

/**
 * The strategy the scenario runs: the one docs/streams.md recommends and the lab's streams
 * scenario holds to its fair-share budget. The Compose servers' command has no knob for
 * --max-stream-lifetime-ms, so each stream asks the server for that lifetime itself
 * (Subscribe's max_lifetime_ms): the server ends it with OK after the shorter of the two,
 * which is what the flag does, with no change to the image or the Compose file.
 */
export const COMPOSE_STREAMS_STRATEGY: StrategyName = "server-lifetime";

/** The lab's timings: 30 streams, a reply every 100 ms, a 6 s lifetime, sampled every 100 ms. */
export const COMPOSE_STREAMS_TIMINGS: StreamsTimings = DEFAULT_STREAMS_TIMINGS;

/** The longest a stream lives before it ends with OK and resumes, in ms. */
export const streamLifetimeMs = (t: StreamsTimings): number =>
  STRATEGIES[COMPOSE_STREAMS_STRATEGY].streamAgeMs(t) ?? t.rebalanceMs;

/** Worst cases of the scenario's phases, in ms, from the deployed Envoy's timings and the servers' drain. */
export interface ComposeStreamsBudgets {
  /** From every stream open to every base replica at its fair share: each resumes within its lifetime. */
  initialMs: number;
  /** From the last new replica ready to all at their fair share: it joins, then every older stream lives out its lifetime. */
  scaleOutMs: number;
  /** From `docker stop` to the stopped replica's streams all open elsewhere: it ends them once its drain delay is over. */
  stopMoveMs: number;
  /**
   * From `docker stop` to the rest at their fair share: Envoy takes it out (detection), then every stream
   * placed before lives out its lifetime; its own streams leave when its drain delay is over.
   */
  stopFairMs: number;
  /** Once a command that removed replicas returned: every stream open on the kept ones. */
  settleMs: number;
}

export function composeStreamsBudgets(
  t: StreamsTimings,
  b: EngineBudgets,
  drainDelayMs: number,
): ComposeStreamsBudgets {
  const age = streamLifetimeMs(t);
  const slack = slackMs(t);
  return {
    initialMs: age + slack,
    scaleOutMs: b.joinMs + age + slack,
    stopMoveMs: drainDelayMs + slack,
    stopFairMs: Math.max(b.detectionMs + age, drainDelayMs) + slack,
    settleMs: slack,
  };
}

/**
 * The drain delay a server container runs with, in ms, from its command's arguments
 * (`--drain-delay-ms 10000` or `--drain-delay-ms=10000`); 0, grpc-lb serve's default, when absent.
 */
export function drainDelayMsOf(args: readonly string[]): number {
  const flag = "--drain-delay-ms";
  for (const [i, a] of args.entries()) {
    const value = a === flag ? args[i + 1] : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : undefined;
    if (value === undefined) continue;
    const ms = Number(value);
    if (Number.isInteger(ms) && ms >= 0) return ms;
  }
  return 0;
}
