import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import { check, requestTotals, type ScenarioCheck, type ScenarioReport } from "../lab/scenarios/report.js";
import type { RequestResult } from "../loadgen/paced-load.js";
import type { EngineTarget } from "./target.js";

/** The lab's report shape, with the engine's scenario names and the engine it ran on. */
export interface EngineScenarioReport<N extends string = string> extends ScenarioReport<N> {
  engine: string;
  /** The Envoy timings the deployed config ships, which the budgets come from. */
  timings: string;
}

/** Envoy's retry counters for the server cluster (cumulative over Envoy's life). */
export interface RetryCounters {
  retries: number;
  overflows: number;
}

export async function readRetryCounters(target: EngineTarget): Promise<RetryCounters> {
  const stat = async (name: string): Promise<number> =>
    (await target.admin.stat(`cluster.${CLUSTER_NAME}.${name}`).catch(() => undefined)) ?? 0;
  return { retries: await stat("upstream_rq_retry"), overflows: await stat("upstream_rq_retry_overflow") };
}

/**
 * Finishes a report: totals, Envoy's retries since `before` (a long-lived Envoy has
 * counted earlier scenarios too), the verdict.
 */
export async function finishEngineReport<N extends string>(
  target: EngineTarget,
  timings: string,
  scenario: N,
  before: RetryCounters,
  results: readonly RequestResult[],
  checks: ScenarioCheck[],
  rest: Pick<ScenarioReport, "measurements" | "distributions">,
  durationMs: number,
): Promise<EngineScenarioReport<N>> {
  const now = await readRetryCounters(target);
  const envoyRetries = now.retries - before.retries;
  const envoyRetryOverflows = now.overflows - before.overflows;
  const all = [
    ...checks,
    check("no retry refused by the budget", envoyRetryOverflows === 0, `${envoyRetryOverflows} refused`),
  ];
  return {
    engine: target.engine,
    scenario,
    verdict: all.every((c) => c.ok) ? "pass" : "fail",
    checks: all,
    requests: requestTotals(results),
    ...rest,
    envoyRetries,
    envoyRetryOverflows,
    durationMs: Math.round(durationMs),
    timings,
  };
}
