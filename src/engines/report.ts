import type { ScenarioReport } from "../scenarios/report.js";

/** The lab's report shape, with the engine's scenario names and the engine it ran on. */
export interface EngineScenarioReport<N extends string = string> extends ScenarioReport<N> {
  engine: string;
  /** The Envoy timings the deployed config ships, which the budgets come from. */
  timings: string;
}

/** The runner's report of a scenario named `name`, with the engine it ran on and its Envoy timings. */
export const engineReport = <N extends string>(
  report: ScenarioReport,
  name: N,
  engine: string,
  timings: string,
): EngineScenarioReport<N> => ({ engine, ...report, scenario: name, timings });
