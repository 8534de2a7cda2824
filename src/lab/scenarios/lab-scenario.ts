import type { Scenario } from "../../scenarios/scenario.js";
import type { LabCluster } from "../cluster.js";
import type { LabOptions } from "../options.js";

/** A scenario that acts on the lab (its servers, DNS and Envoy). */
export interface LabScenario extends Scenario<LabCluster> {
  /** Lab options this scenario starts with (the user's flags come on top). */
  labOptions: LabOptions;
  /**
   * Set when the scenario works at any size: `lab scenario` then takes --servers (up to
   * MAX_LAB_INSTANCES), --servers-per-process and --hc-interval-ms for it. Default false.
   */
  sizable?: boolean;
}
