import type { ScenarioCheck, ScenarioReport } from "../../lab/scenarios/report.js";
import { round } from "../../lab/scenarios/report.js";
import type { RequestResult } from "../../loadgen/paced-load.js";

export const K8S_SCENARIO_NAMES = ["rollout", "scale", "delete-pod", "envoy-restart"] as const;
export type K8sScenarioName = (typeof K8S_SCENARIO_NAMES)[number];

/** What `grpc-lb k8s scenario <name> --json` prints: the lab scenarios' shape, on a real cluster. */
export type K8sScenarioReport = Omit<ScenarioReport, "scenario"> & {
  scenario: K8sScenarioName;
  engine: "kubernetes";
};

/** Start time of the first call `serverId` answered that started at or after `fromMs`. */
export function firstCallAt(
  results: readonly RequestResult[],
  serverId: string,
  fromMs = 0,
): number | undefined {
  let first: number | undefined;
  for (const r of results) {
    if (r.serverId === serverId && r.startMs >= fromMs && (first === undefined || r.startMs < first)) {
      first = r.startMs;
    }
  }
  return first;
}

/** Start time of the last call `serverId` answered. */
export function lastCallAt(results: readonly RequestResult[], serverId: string): number | undefined {
  let last: number | undefined;
  for (const r of results)
    if (r.serverId === serverId && (last === undefined || r.startMs > last)) last = r.startMs;
  return last;
}

/** `to - from` rounded, or -1 when either is unknown (shown as such in the report). */
export const span = (from: number | undefined, to: number | undefined): number =>
  from === undefined || to === undefined ? -1 : round(to - from);

/** A list of measured times against one budget; unknown (-1) fails. */
export function allWithin(name: string, ms: readonly number[], budgetMs: number): ScenarioCheck {
  const ok = ms.length > 0 && ms.every((m) => m >= 0 && m <= budgetMs);
  return { name, ok, detail: `${ms.join(", ")} ms (budget ${budgetMs} ms)` };
}

/** The human-readable verdict, the lab scenarios' format. */
export function formatK8sReport(r: K8sScenarioReport): string {
  const lines = [
    `scenario ${r.scenario} (kubernetes): ${r.verdict.toUpperCase()} in ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const c of r.checks) lines.push(`  ${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`);
  lines.push(
    `  requests: ${r.requests.total} total, ${r.requests.ok} ok, ${r.requests.failed} failed; Envoy retried ${r.envoyRetries} (${r.envoyRetryOverflows} refused by the budget)`,
  );
  for (const [k, v] of Object.entries(r.measurements))
    lines.push(`  ${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
  for (const d of r.distributions) {
    lines.push(
      `  ${d.phase}: ${Object.values(d.backends).join("/") || "(none)"} over ${Object.keys(d.backends).length} servers`,
    );
  }
  return `${lines.join("\n")}\n`;
}
