import type { ScenarioReport } from "../../scenarios/report.js";
import { runScenarioOn } from "../../scenarios/runner.js";
import { startLabCluster } from "../cluster.js";
import type { LabEvent } from "../events.js";
import { type LabOptions, layerLabOptions, resolveLabOptions } from "../options.js";
import { type ScenarioName, scenarios } from "./registry.js";

/** Starts the lab a scenario needs (with `overrides` on top), runs it, and stops everything. */
export async function runScenario(
  name: ScenarioName,
  overrides: LabOptions,
  onEvent: (e: LabEvent) => void,
  signal?: AbortSignal,
): Promise<ScenarioReport> {
  const scenario = scenarios[name];
  const lab = await startLabCluster(
    resolveLabOptions(layerLabOptions(scenario.labOptions, overrides)),
    onEvent,
    signal,
  );
  try {
    return await runScenarioOn(
      scenario,
      lab,
      {
        listenAddress: lab.listenAddress,
        // The Envoy of now: a scenario may hot-restart it.
        get admin() {
          return lab.envoy.admin;
        },
        ensureUp: () => lab.ensureEnvoyUp(),
      },
      signal,
    );
  } finally {
    await lab.stop(signal?.aborted ? "interrupted" : `scenario ${name} finished`);
  }
}
