import type { StreamReport } from "../loadgen/streams/stream-report.js";
import { check, type ScenarioCheck } from "./report.js";
import type { ScenarioOutcome } from "./scenario.js";
import { type StreamPhaseCounts, spreadOverTime } from "./stream-phases.js";

/** What the streams scenario saw in one of its phases. */
export interface StreamsPhaseResult {
  /** As the report shows it: "3 → 6 replicas". */
  phase: string;
  /** The prefix of its measurements: "scaleOut". */
  key: string;
  /** Its window on the streams' clock, in ms. */
  fromMs: number;
  toMs: number;
  /** The server_ids of the replicas it ends with. */
  servers: readonly string[];
  /** When every one of them carried its fair share within one, in ms after `since`; undefined: not in time. */
  fairShare?: { ms: number | undefined; budgetMs: number; since: string };
  /** When the streams of replicas that went were all open elsewhere, in ms after the phase began. */
  moved?: { ms: number | undefined; budgetMs?: number; what: string };
  counts: StreamPhaseCounts;
}

const ms = (v: number | undefined): string => (v === undefined ? "never" : `${v} ms`);

/** Streams per server at the phase's last sample: each of its servers (0 when it carries none), and any other that still does. */
function sharesAtEnd(r: StreamReport, p: StreamsPhaseResult): Record<string, number> {
  const last = r.samples.findLast((s) => s.atMs < p.toMs);
  const out: Record<string, number> = {};
  for (const id of p.servers) out[id] = last?.byServer[id] ?? 0;
  return { ...out, ...last?.byServer };
}

function phaseChecks(p: StreamsPhaseResult, shares: Record<string, number>): ScenarioCheck[] {
  const checks: ScenarioCheck[] = [];
  const { fairShare, moved } = p;
  if (fairShare !== undefined) {
    checks.push(
      check(
        `${p.phase}: each of the ${p.servers.length} replicas carries its fair share within one, ${fairShare.since}`,
        fairShare.ms !== undefined && fairShare.ms <= fairShare.budgetMs,
        `${ms(fairShare.ms)} (budget ${fairShare.budgetMs} ms); then ${Object.values(shares).join("/")}`,
      ),
    );
  }
  if (moved !== undefined) {
    const inBudget = moved.budgetMs === undefined || (moved.ms !== undefined && moved.ms <= moved.budgetMs);
    checks.push(
      check(
        `${p.phase}: ${moved.what}`,
        moved.ms !== undefined && inBudget,
        `${ms(moved.ms)}${moved.budgetMs === undefined ? "" : ` (budget ${moved.budgetMs} ms)`}`,
      ),
    );
  }
  return checks;
}

/** " (INTERNAL 2)" or "". */
const statuses = (errors: Record<string, number>): string => {
  const list = Object.entries(errors).map(([k, v]) => `${k} ${v}`);
  return list.length === 0 ? "" : ` (${list.join(", ")})`;
};

/**
 * The scenario's verdict from its phases and the streams' report. Its first check counts every
 * failure the client saw, as the paced scenarios' "no failed calls" does: each Subscribe call
 * that ended with a status other than OK, each stream that gave up, each reply lost or repeated.
 */
export function streamsOutcome(
  phases: readonly StreamsPhaseResult[],
  r: StreamReport,
  extra: Record<string, number>,
): ScenarioOutcome {
  const errors = Object.fromEntries(Object.entries(r.endsByStatus).filter(([k]) => k !== "OK"));
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  const calls = r.streams + r.resumes;
  const first = r.failures[0] === undefined ? "" : `; first: ${r.failures[0]}`;
  const headline = check(
    "no failed calls, no stream given up, nothing lost or duplicated",
    failed === 0 && r.failedStreams === 0 && r.lost === 0 && r.duplicated === 0,
    `${failed} of ${calls} Subscribe calls failed${statuses(errors)}; ${r.failedStreams} of ${r.streams} streams gave up${first}; ` +
      `${r.delivered} replies, ${r.lost} lost, ${r.duplicated} duplicated`,
  );
  const checks = [headline];
  const measurements: ScenarioOutcome["measurements"] = {
    streams: r.streams,
    streamIntervalMs: r.intervalMs,
    ...extra,
    resumes: r.resumes,
    lost: r.lost,
    duplicated: r.duplicated,
    failedStreams: r.failedStreams,
  };
  const distributions: ScenarioOutcome["distributions"] = [];
  for (const p of phases) {
    const shares = sharesAtEnd(r, p);
    checks.push(...phaseChecks(p, shares));
    const spread = spreadOverTime(r.samples, p.fromMs, p.toMs, p.servers);
    Object.assign(measurements, {
      ...(p.fairShare && {
        [`${p.key}.fairShareMs`]: p.fairShare.ms ?? -1,
        [`${p.key}.fairShareBudgetMs`]: p.fairShare.budgetMs,
      }),
      ...(p.moved && { [`${p.key}.streamsMovedMs`]: p.moved.ms ?? -1 }),
      ...(p.moved?.budgetMs !== undefined && { [`${p.key}.streamsMovedBudgetMs`]: p.moved.budgetMs }),
      [`${p.key}.streamsEnded`]: p.counts.ended,
      [`${p.key}.streamsEndedNotOk`]: p.counts.endedNotOk,
      [`${p.key}.resumes`]: p.counts.resumes,
      [`${p.key}.lost`]: p.counts.lost,
      [`${p.key}.duplicated`]: p.counts.duplicated,
      [`${p.key}.fewestStreamsPerServerEachSecond`]: spread.fewest,
      [`${p.key}.mostStreamsPerServerEachSecond`]: spread.most,
    });
    distributions.push({ phase: `${p.phase}: streams per server at its end`, backends: shares });
  }
  return {
    checks,
    measurements,
    distributions,
    requests: { total: calls, ok: calls - failed, failed, errors },
  };
}
