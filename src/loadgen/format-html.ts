import type { LoadReport } from "./report.js";
import { describeSchedule } from "./schedule.js";

const escapeHtml = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const table = (head: readonly string[], rows: readonly (readonly (string | number)[])[]): string =>
  `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;

/** The report as one self-contained HTML page (tables only, no script, no external request). */
export function formatReportHtml(r: LoadReport): string {
  const ids = r.perBackend.map((b) => b.serverId);
  const ratio = r.imbalance.maxMinRatio;
  const summary = [
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
  const body = [
    `<h1>grpc-lb load: ${escapeHtml(r.target)}</h1>`,
    table(["", ""], summary),
    "<h2>Backends</h2>",
    table(
      [
        r.attribution === "server-id" ? "server_id" : r.attribution === "peer" ? "peer" : "upstream host",
        "address",
        "count",
        "share %",
        "p50 ms",
        "p99 ms",
      ],
      r.perBackend.map((b) => [
        b.serverId,
        b.address,
        b.count,
        b.sharePct,
        b.latencyMs?.p50 ?? "-",
        b.latencyMs?.p99 ?? "-",
      ]),
    ),
    "<h2>Statuses</h2>",
    table(["status", "count"], Object.entries(r.statuses)),
    "<h2>Connections</h2>",
    table(
      ["slot", "generation", "calls", "failed", ...ids],
      r.connectionStats.map((c) => [
        c.slot,
        c.generation,
        c.calls,
        c.failed,
        ...ids.map((id) => c.backends[id] ?? 0),
      ]),
    ),
    "<h2>Per second</h2>",
    table(
      ["second", ...ids, "failed"],
      r.perSecond.map((s) => [s.second, ...ids.map((id) => s.backends[id] ?? 0), s.failed]),
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
</style>
</head>
<body>
${body.join("\n")}
</body>
</html>
`;
}
