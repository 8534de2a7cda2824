import { startLabCluster } from "../cluster.js";
import type { LabEvent } from "../events.js";
import { type LabOptions, resolveLabOptions } from "../options.js";
import { scenarios } from "./registry.js";
import type { ScenarioName, ScenarioReport } from "./report.js";

/** Starts the cluster a scenario needs (with `overrides` on top), runs it, and stops everything. */
export async function runScenario(
  name: ScenarioName,
  overrides: LabOptions,
  onEvent: (e: LabEvent) => void,
  signal?: AbortSignal,
): Promise<ScenarioReport> {
  const scenario = scenarios[name];
  const cluster = await startLabCluster(
    resolveLabOptions({ ...scenario.labOptions, ...overrides }),
    onEvent,
    signal,
  );
  try {
    return await scenario.run(cluster, signal);
  } finally {
    await cluster.stop(`scenario ${name} finished`);
  }
}
