import {
  type BackendListingOptions,
  type CountBin,
  listsAll,
  SUMMARY_ENDS,
  summarizeBackends,
} from "./format-summary.js";
import type { BackendStats, LoadReport } from "./report.js";
import { describeSchedule } from "./schedule.js";

const escapeHtml = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]): string =>
  `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;

const range = (counts: readonly number[]): string =>
  counts.length === 0 ? "-" : `${Math.min(...counts)}-${Math.max(...counts)}`;

/** Backends by how many calls each took, each bin with a bar (a div as wide as its share). */
function histogram(bins: readonly CountBin[], backends: number): string {
  const most = Math.max(1, ...bins.map((b) => b.backends));
  const rows = bins
    .map(
      (b) =>
        `<tr><td>${b.from === b.to ? b.from : `${b.from}-${b.to}`}</td><td>${b.backends}</td><td class="bar"><div style="width: ${Math.round((100 * b.backends) / most)}%"></div></td></tr>`,
    )
    .join("");
  return `<table><thead><tr><th>calls per backend</th><th>backends (of ${backends})</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * The report as one self-contained HTML page (tables only, no script, no external request).
 * Past 20 backends, unless `allBackends`: the 5 busiest and the 5 least busy, a histogram of
 * calls per backend, and per connection and per second the spread instead of a column each.
 */
export function formatReportHtml(r: LoadReport, o: BackendListingOptions = {}): string {
  const all = listsAll(r.perBackend.length, o);
  const ids = r.perBackend.map((b) => b.serverId);
  const ratio = r.imbalance.maxMinRatio;
  const facts = [
    ["target", r.target],
    ["calls", `${r.requests.total} (${r.requests.ok} ok, ${r.requests.failed} failed)`],
    ["connections", r.connections],
    ["concurrency", r.concurrency],
    ["method", `${r.method} (${r.call})`],
    [
      "who answered",
      r.attribution === "envoy-counters" && r.envoyCounters
        ? `envoy-counters: ${r.envoyCounters.counter} of cluster ${r.envoyCounters.clusters.join(", ")} at ${r.envoyCounters.admin}, ${r.envoyCounters.counted} counted, ${r.envoyCounters.attempts} attempts; no per-call latency`
        : r.attribution === "peer"
          ? "peer: each call's peer address (through a proxy, the proxy)"
          : r.attribution,
    ],
    ["schedule", describeSchedule(r.schedule)],
    ["duration", `${(r.durationMs / 1000).toFixed(2)} s${r.interrupted ? " (interrupted)" : ""}`],
    [
      "latency ms",
      `p50 ${r.latencyMs.p50}, p90 ${r.latencyMs.p90}, p99 ${r.latencyMs.p99}, max ${r.latencyMs.max}`,
    ],
    ["imbalance", `max/min ${ratio === null ? "-" : ratio}, cv ${r.imbalance.cv}`],
  ] as const;
  const summary = summarizeBackends(r.perBackend);
  const backendRow = (b: BackendStats): (string | number)[] => [
    b.serverId,
    b.address,
    b.count,
    b.sharePct,
    b.latencyMs?.p50 ?? "-",
    b.latencyMs?.p99 ?? "-",
  ];
  const body = [
    `<h1>grpc-lb load: ${escapeHtml(r.target)}</h1>`,
    table(["", ""], facts),
    "<h2>Backends</h2>",
    ...(all
      ? []
      : [
          `<p>${r.perBackend.length} backends: the ${SUMMARY_ENDS} busiest and the ${SUMMARY_ENDS} least busy.</p>`,
        ]),
    table(
      [
        r.attribution === "server-id" ? "server_id" : r.attribution === "peer" ? "peer" : "upstream host",
        "address",
        "count",
        "share %",
        "p50 ms",
        "p99 ms",
      ],
      (all ? r.perBackend : [...summary.top, ...summary.bottom]).map(backendRow),
    ),
    ...(all ? [] : ["<h2>Calls per backend</h2>", histogram(summary.histogram, r.perBackend.length)]),
    "<h2>Statuses</h2>",
    table(["status", "count"], Object.entries(r.statuses)),
    "<h2>Connections</h2>",
    all
      ? table(
          ["slot", "generation", "calls", "failed", ...ids],
          r.connectionStats.map((c) => [
            c.slot,
            c.generation,
            c.calls,
            c.failed,
            ...ids.map((id) => c.backends[id] ?? 0),
          ]),
        )
      : table(
          ["slot", "generation", "calls", "failed", "backends", "calls each"],
          r.connectionStats.map((c) => [
            c.slot,
            c.generation,
            c.calls,
            c.failed,
            Object.keys(c.backends).length,
            range(Object.values(c.backends)),
          ]),
        ),
    "<h2>Per second</h2>",
    all
      ? table(
          ["second", ...ids, "failed"],
          r.perSecond.map((s) => [s.second, ...ids.map((id) => s.backends[id] ?? 0), s.failed]),
        )
      : table(
          ["second", "backends", "calls each", "failed"],
          r.perSecond.map((s) => [
            s.second,
            Object.keys(s.backends).length,
            range(Object.values(s.backends)),
            s.failed,
          ]),
        ),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>grpc-lb load: ${escapeHtml(r.target)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: right; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child { text-align: left; }
td.bar { width: 20rem; }
td.bar div { background: #4a7; height: 0.8rem; }
</style>
</head>
<body>
${body.join("\n")}
</body>
</html>
`;
}
