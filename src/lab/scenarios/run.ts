import type { ScenarioReport } from "../../scenarios/report.js";
import { runScenarioOn } from "../../scenarios/runner.js";
import { startLabCluster } from "../cluster.js";
import type { LabEvent } from "../events.js";
import { type LabOptions, layerLabOptions, resolveLabOptions } from "../options.js";
import type { LabScenario } from "./lab-scenario.js";
import { type ScenarioName, scenarios } from "./registry.js";

/** Starts the lab a scenario needs (with `overrides` on top), runs it, and stops everything. */
export function runScenario(
  name: ScenarioName,
  overrides: LabOptions,
  onEvent: (e: LabEvent) => void,
  signal?: AbortSignal,
  during?: ShownWhileRunning,
): Promise<ScenarioReport> {
  return runLabScenario(scenarios[name], overrides, onEvent, signal, during);
}

/** Something started once the lab is up (given Envoy's admin address) and stopped when the scenario ends. */
export type ShownWhileRunning = (admin: string) => { stop(): Promise<void> };

/** As runScenario, for a scenario given as a value (one built with faults, in tests). */
export async function runLabScenario(
  scenario: LabScenario,
  overrides: LabOptions,
  onEvent: (e: LabEvent) => void,
  signal?: AbortSignal,
  during?: ShownWhileRunning,
): Promise<ScenarioReport> {
  const lab = await startLabCluster(
    resolveLabOptions(layerLabOptions(scenario.labOptions, overrides)),
    onEvent,
    signal,
  );
  const shown = during?.(lab.envoy.admin.address);
  try {
    return await runScenarioOn(
      scenario,
      lab,
      {
        listenAddress: lab.listenAddress,
        tls: lab.clientTls,
        // The Envoy of now: a scenario may hot-restart it.
        get admin() {
          return lab.envoy.admin;
        },
        ensureUp: () => lab.ensureEnvoyUp(),
      },
      signal,
    );
  } finally {
    await shown?.stop();
    await lab.stop(signal?.aborted ? "interrupted" : `scenario ${scenario.name} finished`);
  }
}
