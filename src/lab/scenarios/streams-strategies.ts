import type { LabOptions, ResolvedLabOptions } from "../options.js";
import { detectionBudgetMs, joinBudgetMs } from "./budgets.js";

/** The times the streams scenario runs with; shrunk in tests. */
export interface StreamsTimings {
  /** Long-lived streams held through Envoy. Default 30. */
  streams: number;
  /** Pause between a stream's replies, in ms. Default 100. */
  intervalMs: number;
  /** Each strategy's own time (connection age, Envoy's max_stream_duration, server lifetime), in ms. Default 6000. */
  rebalanceMs: number;
  /** The grace of the servers' max connection age, in ms. Default 2000. */
  graceMs: number;
  /** How often streams per server are sampled, in ms. Default 100. */
  sampleMs: number;
}

export const DEFAULT_STREAMS_TIMINGS: StreamsTimings = {
  streams: 30,
  intervalMs: 100,
  rebalanceMs: 6000,
  graceMs: 2000,
  sampleMs: 100,
};

export const STRATEGY_NAMES = [
  "none",
  "connection-age",
  "envoy-max-stream-duration",
  "server-lifetime",
] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** One way to rebalance long-lived streams after a scale-out. */
export interface StreamStrategy {
  /** What the lab runs with, over the scenario's own options. */
  lab(t: StreamsTimings): LabOptions;
  /** Whether the scenario's verdict asks it to reach the fair share in time. */
  recommended: boolean;
  /** The longest a stream opened before the new servers joined may live on, in ms; undefined: for ever. */
  streamAgeMs(t: StreamsTimings): number | undefined;
}

export const STRATEGIES: Record<StrategyName, StreamStrategy> = {
  none: { lab: () => ({}), recommended: false, streamAgeMs: () => undefined },
  // grpc-js jitters the age by up to a tenth; the streams then last out the grace, and are cut.
  "connection-age": {
    lab: (t) => ({ maxConnectionAgeMs: t.rebalanceMs, serverGraceMs: t.graceMs }),
    recommended: false,
    streamAgeMs: (t) => Math.round(t.rebalanceMs * 1.1) + t.graceMs,
  },
  "envoy-max-stream-duration": {
    lab: (t) => ({ envoy: { maxStreamDurationMs: t.rebalanceMs } }),
    recommended: false,
    streamAgeMs: (t) => t.rebalanceMs,
  },
  "server-lifetime": {
    lab: (t) => ({ maxStreamLifetimeMs: t.rebalanceMs }),
    recommended: true,
    streamAgeMs: (t) => t.rebalanceMs,
  },
};

/** Slack for streams to resume and be sampled: a reply's interval twice, and scheduling on a busy machine. */
export const slackMs = (t: Pick<StreamsTimings, "intervalMs" | "sampleMs">): number =>
  2 * t.intervalMs + 2 * t.sampleMs + 1000;

/**
 * Worst case for every server to carry its fair share after the scale-out:
 * the new servers join Envoy, then every stream opened before lives out its
 * age (the strategy's time) and resumes; undefined when streams never move.
 */
export function fairShareBudgetMs(
  s: StreamStrategy,
  t: StreamsTimings,
  o: ResolvedLabOptions,
): number | undefined {
  const age = s.streamAgeMs(t);
  return age === undefined ? undefined : joinBudgetMs(o) + age + slackMs(t);
}

/** Worst case for a drained or killed server's streams to resume elsewhere, in ms. */
export const moveBudgetMs = (t: StreamsTimings, o: ResolvedLabOptions): number =>
  o.serverDrainDelayMs + detectionBudgetMs(o) + slackMs(t);

/**
 * Whether every one of `servers` carries its fair share of `streams` within
 * one, with every stream open and none on another server.
 */
export function atFairShare(
  byServer: Record<string, number>,
  servers: readonly string[],
  streams: number,
): boolean {
  const fair = streams / servers.length;
  // Counted on `servers` only: 6 servers within one of 5 each may hold 26 of 30 streams.
  const open = servers.reduce((a, id) => a + (byServer[id] ?? 0), 0);
  return open === streams && servers.every((id) => Math.abs((byServer[id] ?? 0) - fair) <= 1);
}
