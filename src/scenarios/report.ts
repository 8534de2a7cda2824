import { status } from "@grpc/grpc-js";
import type { RequestResult } from "../loadgen/paced-load.js";
import { reportOfWindow } from "../loadgen/recorder.js";
import type { LoadReport } from "../loadgen/report.js";

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

/** The engine's recorder over the calls started in [fromMs, toMs): calls are counted there and only there. */
function recorded(
  results: readonly RequestResult[],
  fromMs = 0,
  toMs = Number.POSITIVE_INFINITY,
): LoadReport {
  const outcomes = results.map(({ serverId, ...r }) => (serverId === undefined ? r : { ...r, serverId }));
  return reportOfWindow(outcomes, { target: "", concurrency: 1, durationMs: 0 }, fromMs, toMs);
}

/** Replies per server_id among calls started in [fromMs, toMs). */
export function distribution(
  results: readonly RequestResult[],
  fromMs = 0,
  toMs = Number.POSITIVE_INFINITY,
): Record<string, number> {
  return recorded(results, fromMs, toMs).backends;
}

/** Calls by status, as the engine's report totals them. */
export function requestTotals(results: readonly RequestResult[]): ScenarioReport["requests"] {
  return totalsOf(recorded(results));
}

/** A load report's totals in a scenario report's shape. */
export function totalsOf(r: LoadReport): ScenarioReport["requests"] {
  return { ...r.requests, errors: r.errors };
}

export const check = (name: string, ok: boolean, detail: string): ScenarioCheck => ({ name, ok, detail });

/** Calls a fault cut mid-reply (ScenarioOutcome.cutReplies): INTERNAL by a reset stream, in its window. */
export function repliesCut(
  results: readonly RequestResult[],
  w: { fromMs: number; toMs: number; withinMs: number },
): number {
  return results.filter(
    (r) =>
      r.code === status.INTERNAL &&
      /RST_STREAM/.test(r.details ?? "") &&
      r.startMs <= w.toMs &&
      r.endMs >= w.fromMs &&
      r.endMs <= w.toMs + w.withinMs,
  ).length;
}

/**
 * The check every scenario under load makes: not one call failed. Its line counts every call
 * the client saw fail. Replies a fault cut mid-way (see ScenarioOutcome.cutReplies), which no
 * one can retry, are explained beside that count and judged by their own budget: at most the
 * calls the load had in flight.
 */
export function noFailedCalls(
  results: readonly RequestResult[] | LoadReport,
  cut?: { count: number; by: string; budget: number },
): ScenarioCheck {
  const r = "requests" in results ? results : recorded(results);
  const { total, failed } = r.requests;
  const cutCount = cut?.count ?? 0;
  const first = (name: string): string => r.errorDetails?.[name] ?? "";
  const firsts = Object.keys(r.errors)
    .filter((name) => first(name) !== "")
    .map((name) => `; first ${name}: ${first(name)}`)
    .join("");
  const counted = `${failed} of ${total} failed${failed > 0 ? `${statusList(r.errors)}${firsts}` : ""}`;
  if (cut === undefined || cutCount === 0) return check("no failed calls", failed === 0, counted);
  const replies = `${cutCount} ${cutCount === 1 ? "reply" : "replies"}`;
  return check(
    `no failed calls but replies cut mid-way by ${cut.by}`,
    failed === cutCount && cutCount <= cut.budget,
    `${counted}: ${replies} cut mid-way by ${cut.by}, which no one can retry (budget ${cut.budget}, the calls in flight), ${failed - cutCount} otherwise`,
  );
}

/** " (DEADLINE_EXCEEDED 1, UNAVAILABLE 2)", or "" when there is no error. */
function statusList(errors: Record<string, number>): string {
  const list = Object.entries(errors).map(([name, n]) => `${name} ${n}`);
  return list.length === 0 ? "" : ` (${list.join(", ")})`;
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
    `  requests: ${r.requests.total} total, ${r.requests.ok} ok, ${r.requests.failed} failed${statusList(r.requests.errors)}; Envoy retried ${r.envoyRetries} (${r.envoyRetryOverflows} refused by the budget)`,
  );
  for (const [k, v] of Object.entries(r.measurements)) {
    lines.push(`  ${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
  }
  for (const d of r.distributions) {
    lines.push(
      `  ${d.phase}: ${countsLine(Object.values(d.backends))} over ${Object.keys(d.backends).length} servers`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** A/B/C for a few servers; past 20, the spread (min, median, max) instead of every count. */
function countsLine(counts: number[]): string {
  if (counts.length === 0) return "(none)";
  if (counts.length <= 20) return counts.join("/");
  const sorted = [...counts].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return `min ${sorted[0]}, median ${median}, max ${sorted[sorted.length - 1]} per server`;
}
