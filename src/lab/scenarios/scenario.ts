import type { LabCluster } from "../cluster.js";
import type { LabOptions } from "../options.js";
import type { ScenarioName, ScenarioReport } from "./report.js";

/** One experiment: the cluster it needs and what it does to it under load. */
export interface Scenario {
  name: ScenarioName;
  summary: string;
  /** Lab options this scenario starts with (the user's flags come on top). */
  labOptions: LabOptions;
  /** Runs it; `signal` (Ctrl-C) ends every wait and the load early. */
  run(cluster: LabCluster, signal?: AbortSignal): Promise<ScenarioReport>;
}
