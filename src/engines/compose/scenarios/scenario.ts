import type { EngineScenarioReport } from "../../report.js";
import type { ComposeCluster } from "../cluster.js";

export const COMPOSE_SCENARIO_NAMES = ["kill", "stop", "pause", "disconnect", "scale"] as const;
export type ComposeScenarioName = (typeof COMPOSE_SCENARIO_NAMES)[number];

export type ComposeScenarioReport = EngineScenarioReport<ComposeScenarioName>;

/** One day-two experiment on the running Compose cluster, under load through Envoy. */
export interface ComposeScenario {
  name: ComposeScenarioName;
  summary: string;
  /** Runs it and leaves the cluster as it found it (3 replicas, all routed to); `signal` ends it early. */
  run(cluster: ComposeCluster, signal?: AbortSignal): Promise<ComposeScenarioReport>;
}
