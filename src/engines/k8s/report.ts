import type { ScenarioCheck } from "../../lab/scenarios/report.js";
import { round } from "../../lab/scenarios/report.js";
import type { RequestResult } from "../../loadgen/paced-load.js";
import type { EngineScenarioReport } from "../report.js";

export const K8S_SCENARIO_NAMES = ["rollout", "scale", "delete-pod", "envoy-restart"] as const;
export type K8sScenarioName = (typeof K8S_SCENARIO_NAMES)[number];

/** What `grpc-lb k8s scenario <name> --json` prints: the lab scenarios' shape, on Kubernetes. */
export type K8sScenarioReport = EngineScenarioReport<K8sScenarioName>;

/** Start time of the first call `serverId` answered that started at or after `fromMs`. */
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

/** `to - from` rounded, or -1 when either is unknown. */
export const span = (from: number | undefined, to: number | undefined): number =>
  from === undefined || to === undefined ? -1 : round(to - from);

/** A list of measured times against one budget; an unknown one (-1) fails. */
export function allWithin(name: string, ms: readonly number[], budgetMs: number): ScenarioCheck {
  const ok = ms.length > 0 && ms.every((m) => m >= 0 && m <= budgetMs);
  return { name, ok, detail: `${ms.join(", ")} ms (budget ${budgetMs} ms)` };
}
