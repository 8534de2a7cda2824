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
  "streams",
  "cert-rotation",
] as const;
export type ComposeScenarioName = (typeof COMPOSE_SCENARIO_NAMES)[number];

/**
 * The scenarios of the TLS variant (compose.tls.yaml); every other one runs on the plaintext
 * variant only (scale and envoy-reload start containers and configurations from compose.yaml
 * alone). `all` runs the plaintext ones.
 */
export const TLS_SCENARIO_NAMES: readonly ComposeScenarioName[] = ["cert-rotation"];
export const PLAINTEXT_SCENARIO_NAMES: readonly ComposeScenarioName[] = COMPOSE_SCENARIO_NAMES.filter(
  (n) => !TLS_SCENARIO_NAMES.includes(n),
);

export type ComposeScenarioReport = EngineScenarioReport<ComposeScenarioName>;

/**
 * One day-two experiment on the running Compose cluster, run by the scenario runner under
 * its paced load through Envoy; it leaves the cluster as it found it (3 replicas, all routed to).
 */
export interface ComposeScenario extends Scenario<ComposeCluster> {
  name: ComposeScenarioName;
}
