import {
  type BackendListingOptions,
  type CountBin,
  listsAll,
  SUMMARY_ENDS,
  summarizeBackends,
} from "./format-summary.js";
import type { Attribution, BackendStats, CallShape, LoadReport } from "./report.js";
import { describeSchedule } from "./schedule.js";

const BAR_WIDTH = 40;
const f2 = (n: number): string => n.toFixed(2);
/** The first 8 characters of a server_id: enough to tell instances apart in a column header. */
export const shortId = (id: string): string => id.slice(0, 8);

const COLUMN: Record<Attribution, string> = {
  "server-id": "server_id",
  peer: "peer",
  "envoy-counters": "upstream host",
};

const SHAPE: Record<CallShape, string> = {
  unary: "",
  stream: " (server streams)",
  "client-stream": " (client streams)",
  "bidi-stream": " (bidi streams)",
};

/** " of /pkg.Service/Method (shape)", the method left out when it is the default unary Echo. */
const callText = (r: LoadReport): string =>
  `${r.method === "/lbdemo.v1.Echo/Echo" || r.method === "/lbdemo.v1.Echo/EchoStream" ? "" : ` of ${r.method}`}${SHAPE[r.call]}`;

/** How the report knows who answered, unless it is the Echo reply's server_id. */
function attributionText(r: LoadReport): string | undefined {
  switch (r.attribution) {
    case "server-id":
      return undefined;
    case "peer":
      return "who answered: each call's peer address (through a proxy, such as Envoy, the peer is the proxy)";
    case "envoy-counters": {
      const e = r.envoyCounters;
      if (e === undefined) return "who answered: Envoy's per-host counters";
      return (
        `who answered: Envoy's ${e.counter} per upstream host of cluster ${e.clusters.join(", ")} (admin ${e.admin}), ` +
        `${e.counted} for ${r.requests.ok} ok calls, ${e.attempts} attempts; no per-call latency` +
        (e.vanished.length > 0 ? `; gone during the run, not counted: ${e.vanished.join(", ")}` : "")
      );
    }
  }
}

/**
 * The human-readable report: one line per backend with a bar (past 20 backends,
 * the 5 busiest, the 5 least busy and a histogram, unless `allBackends`), then
 * totals, latency, connections, seconds.
 */
export function formatReportText(r: LoadReport, o: BackendListingOptions = {}): string {
  const lines: string[] = [];
  const rows = r.perBackend;
  const all = listsAll(rows.length, o);
  const most = Math.max(1, ...rows.map((b) => b.count));
  const countWidth = Math.max(5, String(most).length);
  const addrWidth = Math.max(7, ...rows.map((b) => b.address.length));
  const over = r.connections === 1 ? "one channel" : `${r.connections} connections`;
  const rate = r.schedule.kind === "closed" ? "" : `, ${describeSchedule(r.schedule)}`;
  lines.push(
    `${r.requests.total} requests${callText(r)} to ${r.target} over ${over}, concurrency ${r.concurrency}${rate}, in ${(r.durationMs / 1000).toFixed(2)} s${r.interrupted ? " (interrupted)" : ""}`,
  );
  const who = attributionText(r);
  if (who !== undefined) lines.push(who);
  lines.push("");
  const idWidth = Math.max(r.attribution === "server-id" ? 36 : 21, ...rows.map((b) => b.serverId.length));
  lines.push(
    `  ${COLUMN[r.attribution].padEnd(idWidth)}  ${"address".padEnd(addrWidth)}  ${"count".padStart(countWidth)}  share  p50 ms  p99 ms`,
  );
  const row = (b: BackendStats): string => {
    const share = r.requests.total === 0 ? 0 : (100 * b.count) / r.requests.total;
    const bar =
      b.count === 0 ? "(never reached)" : "█".repeat(Math.max(1, Math.round((BAR_WIDTH * b.count) / most)));
    const ms = (n: number | undefined): string => (n === undefined ? "-" : f2(n)).padStart(6);
    return `  ${b.serverId.padEnd(idWidth)}  ${b.address.padEnd(addrWidth)}  ${String(b.count).padStart(countWidth)}  ${share.toFixed(1).padStart(5)}%  ${ms(b.latencyMs?.p50)}  ${ms(b.latencyMs?.p99)}  ${bar}`;
  };
  if (all) lines.push(...rows.map(row));
  else {
    const summary = summarizeBackends(rows);
    lines.push(...summary.top.map(row));
    lines.push(`  … ${rows.length - 2 * SUMMARY_ENDS} more (all ${rows.length}: --all-backends) …`);
    lines.push(...summary.bottom.map(row));
    lines.push("", ...histogramLines(summary.histogram, rows.length, r.requests.total));
  }
  if (rows.length === 0) lines.push("  (no backend answered)");
  lines.push("");
  const counts = rows.map((b) => b.count).filter((n) => n > 0);
  const silent = rows.length - counts.length;
  lines.push(
    `${counts.length} backend${counts.length === 1 ? "" : "s"} answered ${r.requests.ok} of ${r.requests.total} requests` +
      (counts.length > 0
        ? all
          ? `: ${[...counts].sort((a, b) => a - b).join("/")}`
          : `: ${Math.min(...counts)} to ${Math.max(...counts)} each`
        : "") +
      (silent > 0 ? `; ${silent} never reached` : ""),
  );
  const errors = Object.entries(r.errors)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");
  const cancelled = r.cancelledByInterrupt ? `; cancelled by Ctrl-C ${r.cancelledByInterrupt}` : "";
  lines.push(`ok ${r.requests.ok}, failed ${r.requests.failed}${errors ? ` (${errors})` : ""}${cancelled}`);
  for (const [name, details] of Object.entries(r.errorDetails ?? {}))
    if (details !== "") lines.push(`  first ${name}: ${details}`);
  const l = r.latencyMs;
  lines.push(`latency ms: p50 ${f2(l.p50)}  p90 ${f2(l.p90)}  p99 ${f2(l.p99)}  max ${f2(l.max)}`);
  if (rows.length > 1) {
    const ratio = r.imbalance.maxMinRatio;
    lines.push(`imbalance: max/min ${ratio === null ? "-" : f2(ratio)}, cv ${r.imbalance.cv.toFixed(3)}`);
  }
  // With envoy-counters no call has a backend: the per-connection and per-second splits do not exist.
  if (r.connectionStats.length > 1 && r.attribution !== "envoy-counters") {
    lines.push("", "connections (slot.generation: calls per backend):");
    for (const c of r.connectionStats) {
      const spread = all
        ? Object.entries(c.backends)
            .map(([id, n]) => `${shortId(id)} ${n}`)
            .join(", ")
        : spreadText(Object.values(c.backends));
      lines.push(
        `  ${c.slot}.${c.generation}  ${spread || "(none)"}${c.failed > 0 ? `, failed ${c.failed}` : ""}`,
      );
    }
  }
  if (r.perSecond.length > 1 && r.attribution !== "envoy-counters") {
    if (all) {
      const ids = rows.map((b) => b.serverId);
      lines.push("", `per second: ${["second", ...ids.map(shortId), "failed"].join("  ")}`);
      for (const s of r.perSecond) {
        const cells = ids.map((id) => String(s.backends[id] ?? 0).padStart(8));
        lines.push(
          `            ${String(s.second).padStart(6)}  ${cells.join("  ")}  ${String(s.failed).padStart(6)}`,
        );
      }
    } else {
      lines.push("", "per second: second  backends  calls each  failed");
      for (const s of r.perSecond) {
        const spread = spreadText(Object.values(s.backends));
        lines.push(`            ${String(s.second).padStart(6)}  ${spread || "(none)"}  failed ${s.failed}`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

/** "1000 backends, 9-11 calls each": one line for a spread too wide to list. */
function spreadText(counts: readonly number[]): string {
  if (counts.length === 0) return "";
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  return `${counts.length} backends, ${min === max ? min : `${min}-${max}`} call${max === 1 ? "" : "s"} each`;
}

/** The histogram of a summary: how many backends took how many calls, with a bar each. */
function histogramLines(bins: readonly CountBin[], backends: number, total: number): string[] {
  const most = Math.max(1, ...bins.map((b) => b.backends));
  const pct = (n: number): string => (total === 0 ? "0" : ((100 * n) / total).toFixed(2));
  const range = (b: CountBin): string =>
    b.from === b.to ? `${b.from} (${pct(b.from)}%)` : `${b.from}-${b.to} (${pct(b.from)}-${pct(b.to)}%)`;
  const width = Math.max(...bins.map((b) => range(b).length));
  return [
    `  calls per backend: how many of the ${backends} backends`,
    ...bins.map((b) =>
      `  ${range(b).padStart(width)}  ${String(b.backends).padStart(String(backends).length)}  ${"█".repeat(b.backends === 0 ? 0 : Math.max(1, Math.round((BAR_WIDTH * b.backends) / most)))}`.trimEnd(),
    ),
  ];
}
