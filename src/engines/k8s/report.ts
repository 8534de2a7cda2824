import type { ScenarioCheck } from "../../scenarios/report.js";
import type { EngineScenarioReport } from "../report.js";

export const K8S_SCENARIO_NAMES = [
  "rollout",
  "scale",
  "delete-pod",
  "envoy-restart",
  "envoy-delete-pod",
  "envoy-scale",
  "cert-rotation",
  "xds-delete-pod",
  "streams",
] as const;
export type K8sScenarioName = (typeof K8S_SCENARIO_NAMES)[number];

/** What `grpc-lb k8s scenario <name> --json` prints: the lab scenarios' shape, on Kubernetes. */
export type K8sScenarioReport = EngineScenarioReport<K8sScenarioName>;

/** A list of measured times against one budget; an unknown one (-1) fails. */
export function allWithin(name: string, ms: readonly number[], budgetMs: number): ScenarioCheck {
  const ok = ms.length > 0 && ms.every((m) => m >= 0 && m <= budgetMs);
  return { name, ok, detail: `${ms.join(", ")} ms (budget ${budgetMs} ms)` };
}
