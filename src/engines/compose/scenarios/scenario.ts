import type { Scenario } from "../../../scenarios/scenario.js";
import type { EngineScenarioReport } from "../../report.js";
import type { ComposeCluster } from "../cluster.js";

export const COMPOSE_SCENARIO_NAMES = [
  "kill",
  "stop",
  "pause",
  "disconnect",
  "scale",
  "envoy-reload",
] as const;
export type ComposeScenarioName = (typeof COMPOSE_SCENARIO_NAMES)[number];

export type ComposeScenarioReport = EngineScenarioReport<ComposeScenarioName>;

/**
 * One day-two experiment on the running Compose cluster, run by the scenario runner under
 * its paced load through Envoy; it leaves the cluster as it found it (3 replicas, all routed to).
 */
export interface ComposeScenario extends Scenario<ComposeCluster> {
  name: ComposeScenarioName;
}
