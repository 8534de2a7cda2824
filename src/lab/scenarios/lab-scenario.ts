import type { LabCluster } from "../cluster.js";
import type { Scenario } from "./scenario.js";

/** A scenario that acts on the lab (its servers, DNS and Envoy). */
export type LabScenario = Scenario<LabCluster>;
