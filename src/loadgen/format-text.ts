import type { LoadReport } from "./report.js";

const BAR_WIDTH = 40;

/** The human-readable report: one line per backend with a bar, then totals and latency. */
export function formatReportText(r: LoadReport): string {
  const lines: string[] = [];
  const ids = Object.keys(r.backends).sort(
    (a, b) => (r.backends[b] ?? 0) - (r.backends[a] ?? 0) || a.localeCompare(b),
  );
  const most = Math.max(1, ...Object.values(r.backends));
  const countWidth = String(most).length;
  const addrWidth = Math.max(7, ...ids.map((id) => (r.backendAddresses[id] ?? "").length));
  lines.push(
    `${r.requests.total} requests to ${r.target} over one channel, concurrency ${r.concurrency}, in ${(r.durationMs / 1000).toFixed(2)} s${r.interrupted ? " (interrupted)" : ""}`,
  );
  lines.push("");
  lines.push(
    `  ${"server_id".padEnd(36)}  ${"address".padEnd(addrWidth)}  ${"count".padStart(Math.max(5, countWidth))}  share`,
  );
  for (const id of ids) {
    const count = r.backends[id] ?? 0;
    const share = r.requests.total === 0 ? 0 : (100 * count) / r.requests.total;
    const bar = "█".repeat(Math.max(1, Math.round((BAR_WIDTH * count) / most)));
    lines.push(
      `  ${id.padEnd(36)}  ${(r.backendAddresses[id] ?? "").padEnd(addrWidth)}  ${String(count).padStart(Math.max(5, countWidth))}  ${share.toFixed(1).padStart(5)}%  ${bar}`,
    );
  }
  if (ids.length === 0) lines.push("  (no backend answered)");
  lines.push("");
  const counts = ids.map((id) => r.backends[id] ?? 0);
  lines.push(
    `${ids.length} backend${ids.length === 1 ? "" : "s"} answered ${r.requests.ok} of ${r.requests.total} requests` +
      (counts.length > 0 ? `: ${[...counts].sort((a, b) => a - b).join("/")}` : ""),
  );
  const errors = Object.entries(r.errors)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");
  lines.push(`ok ${r.requests.ok}, failed ${r.requests.failed}${errors ? ` (${errors})` : ""}`);
  const l = r.latencyMs;
  const f = (n: number): string => n.toFixed(2);
  lines.push(`latency ms: p50 ${f(l.p50)}  p90 ${f(l.p90)}  p99 ${f(l.p99)}  max ${f(l.max)}`);
  return `${lines.join("\n")}\n`;
}
