import type { RequestResult } from "../../loadgen/paced-load.js";
import { statusName } from "../../loadgen/report.js";

export type { ScenarioName } from "./registry.js";
export { distribution } from "./results.js";

export interface ScenarioCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What `grpc-lb lab scenario <name> --json` prints (and, with their own names, the engines' scenarios). */
export interface ScenarioReport<N extends string = string> {
  /** The scenario's name: a lab scenario's, or an engine's (Compose, Kubernetes). */
  scenario: N;
  verdict: "pass" | "fail";
  checks: ScenarioCheck[];
  requests: { total: number; ok: number; failed: number; errors: Record<string, number> };
  /** Measured times in ms (and counts), named by what they measure. */
  measurements: Record<string, number | number[]>;
  /** Replies per server_id in each phase of the scenario. */
  distributions: { phase: string; backends: Record<string, number> }[];
  /** Calls Envoy retried on another host (cluster.server.upstream_rq_retry). */
  envoyRetries: number;
  /** Retries Envoy refused because the retry budget was spent (cluster.server.upstream_rq_retry_overflow). */
  envoyRetryOverflows: number;
  durationMs: number;
}

export function requestTotals(results: readonly RequestResult[]): ScenarioReport["requests"] {
  const errors: Record<string, number> = {};
  for (const r of results)
    if (r.code !== 0) errors[statusName(r.code)] = (errors[statusName(r.code)] ?? 0) + 1;
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return { total: results.length, ok: results.length - failed, failed, errors };
}

export const check = (name: string, ok: boolean, detail: string): ScenarioCheck => ({ name, ok, detail });

/** The check every scenario under load makes: not one call failed. */
export function noFailedCalls(results: readonly RequestResult[]): ScenarioCheck {
  const failed = results.filter((r) => r.code !== 0).length;
  return check("no failed calls", failed === 0, `${failed} of ${results.length} failed`);
}

/** A measured time against its budget. */
export function withinBudget(name: string, ms: number, budgetMs: number): ScenarioCheck {
  return check(name, ms <= budgetMs, `${round(ms)} ms (budget ${budgetMs} ms)`);
}

export const round = (ms: number): number => Math.round(ms * 10) / 10;

/** The human-readable verdict: one line per check, then the measurements. */
export function formatScenarioReport(r: ScenarioReport<string>): string {
  const lines = [
    `scenario ${r.scenario}: ${r.verdict.toUpperCase()} in ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const c of r.checks) lines.push(`  ${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.detail}`);
  lines.push(
    `  requests: ${r.requests.total} total, ${r.requests.ok} ok, ${r.requests.failed} failed; Envoy retried ${r.envoyRetries} (${r.envoyRetryOverflows} refused by the budget)`,
  );
  for (const [k, v] of Object.entries(r.measurements)) {
    lines.push(`  ${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
  }
  for (const d of r.distributions) {
    lines.push(
      `  ${d.phase}: ${Object.values(d.backends).join("/") || "(none)"} over ${Object.keys(d.backends).length} servers`,
    );
  }
  return `${lines.join("\n")}\n`;
}
