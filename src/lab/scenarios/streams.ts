import type { ScenarioCheck } from "../../scenarios/report.js";
import { check } from "../../scenarios/report.js";
import { startLabCluster } from "../cluster.js";
import { layerLabOptions, resolveLabOptions } from "../options.js";
import type { LabScenario } from "./lab-scenario.js";
import { runStrategy, type StrategyResult } from "./streams-run.js";
import {
  DEFAULT_STREAMS_TIMINGS,
  fairShareBudgetMs,
  STRATEGIES,
  STRATEGY_NAMES,
  type StreamsTimings,
} from "./streams-strategies.js";

const ms = (v: number | undefined): string => (v === undefined ? "never" : `${v} ms`);

/** The checks of one strategy: nothing lost or repeated, no stream given up, a lost server's streams moved. */
function checksOf(name: string, r: StrategyResult, recommended: boolean): ScenarioCheck[] {
  const { lost, duplicated, failedStreams } = r.report;
  return [
    ...(recommended
      ? [
          check(
            `${name}: fair share of streams in time`,
            r.fairShareMs !== undefined && r.fairShareMs <= r.budgetMs,
            `${ms(r.fairShareMs)} (budget ${r.budgetMs} ms)`,
          ),
        ]
      : []),
    check(
      `${name}: nothing lost or duplicated, no stream failed`,
      lost === 0 && duplicated === 0 && failedStreams === 0,
      `${lost} lost, ${duplicated} duplicated, ${failedStreams} failed of ${r.report.streams}`,
    ),
    check(
      `${name}: drained and killed servers' streams resume elsewhere`,
      r.drainMoveMs !== undefined && r.killMoveMs !== undefined,
      `drain ${ms(r.drainMoveMs)}, kill ${ms(r.killMoveMs)} (budget ${r.moveBudgetMs} ms each)`,
    ),
  ];
}

/**
 * Long-lived streams through Envoy, 3 → 6 servers, then one drained and one
 * killed, once per rebalancing strategy, each on a lab of its own (the
 * scenario's lab runs the first, none).
 */
export function streamsScenario(t: StreamsTimings = DEFAULT_STREAMS_TIMINGS): LabScenario {
  return {
    name: "streams",
    summary: `${t.streams} long-lived streams, 3 → 6 servers, one drained, one killed: each rebalancing strategy side by side`,
    labOptions: { servers: 3 },
    load: "none",
    async run({ env: lab, signal }) {
      const checks: ScenarioCheck[] = [];
      const measurements: Record<string, number> = {};
      const distributions: { phase: string; backends: Record<string, number> }[] = [];
      let requests = { total: 0, ok: 0, failed: 0, errors: {} as Record<string, number> };
      // Strategies that never move streams are watched as long as the slowest of the others may take.
      const observeMs = Math.max(
        ...STRATEGY_NAMES.map((n) => fairShareBudgetMs(STRATEGIES[n], t, lab.options) ?? 0),
      );
      for (const name of STRATEGY_NAMES) {
        const strategy = STRATEGIES[name];
        const own =
          name === STRATEGY_NAMES[0]
            ? undefined
            : await startLabCluster(
                resolveLabOptions(layerLabOptions(lab.options, strategy.lab(t))),
                () => {},
                signal,
              );
        let r: StrategyResult;
        try {
          r = await runStrategy(own ?? lab, strategy, t, observeMs, signal);
        } finally {
          await own?.stop(`streams strategy ${name} finished`);
        }
        checks.push(...checksOf(name, r, strategy.recommended));
        const rep = r.report;
        const ends = Object.values(rep.endsByStatus).reduce((a, b) => a + b, 0);
        Object.assign(measurements, {
          [`${name}.fairShareMs`]: r.fairShareMs ?? -1,
          [`${name}.budgetMs`]: r.budgetMs,
          [`${name}.streamsEnded`]: ends,
          [`${name}.streamsEndedNotOk`]: ends - (rep.endsByStatus.OK ?? 0),
          [`${name}.resumes`]: rep.resumes,
          [`${name}.lost`]: rep.lost,
          [`${name}.duplicated`]: rep.duplicated,
          [`${name}.failedStreams`]: rep.failedStreams,
          [`${name}.drainMoveMs`]: r.drainMoveMs ?? -1,
          [`${name}.killMoveMs`]: r.killMoveMs ?? -1,
        });
        for (const [code, n] of Object.entries(rep.endsByStatus)) measurements[`${name}.ends.${code}`] = n;
        distributions.push({
          phase: `${name}: streams per server after 3 → 6`,
          backends: r.sharesAfterScale,
        });
        const errors = { ...requests.errors };
        for (const [k, v] of Object.entries(rep.endsByStatus))
          if (k !== "OK") errors[k] = (errors[k] ?? 0) + v;
        requests = {
          total: requests.total + rep.delivered,
          ok: requests.ok + rep.delivered,
          failed: requests.failed + rep.failedStreams,
          errors,
        };
      }
      return { checks, measurements, distributions, requests };
    },
  };
}

export const streams = streamsScenario();
