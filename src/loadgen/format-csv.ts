import type { LoadReport } from "./report.js";

/** One table in long form; `section` says which columns a row fills. */
const COLUMNS = [
  "section",
  "second",
  "slot",
  "generation",
  "server_id",
  "address",
  "status",
  "count",
  "share_pct",
  "p50_ms",
  "p99_ms",
  "attribution",
] as const;
type Row = Partial<Record<(typeof COLUMNS)[number], string | number>>;

// RFC 4180: quote a field holding a comma, quote or line break, doubling the quotes.
const field = (v: string | number | undefined): string => {
  const s = v === undefined ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/**
 * The report as CSV: a row per backend (count, share, p50/p99, how it was
 * known: server-id, peer or envoy-counters, which has no latency), per status,
 * per connection and backend, and per second and backend (status FAILED for
 * the failures of that second).
 */
export function formatReportCsv(r: LoadReport): string {
  const rows: Row[] = [];
  for (const b of r.perBackend)
    rows.push({
      section: "backend",
      server_id: b.serverId,
      address: b.address,
      count: b.count,
      share_pct: b.sharePct,
      p50_ms: b.latencyMs?.p50,
      p99_ms: b.latencyMs?.p99,
      attribution: r.attribution,
    });
  for (const [name, n] of Object.entries(r.statuses))
    rows.push({ section: "status", status: name, count: n });
  for (const c of r.connectionStats)
    for (const [id, n] of Object.entries(c.backends))
      rows.push({ section: "connection", slot: c.slot, generation: c.generation, server_id: id, count: n });
  for (const s of r.perSecond) {
    for (const [id, n] of Object.entries(s.backends))
      rows.push({ section: "second", second: s.second, server_id: id, status: "OK", count: n });
    if (s.failed > 0) rows.push({ section: "second", second: s.second, status: "FAILED", count: s.failed });
  }
  const lines = [COLUMNS.join(","), ...rows.map((row) => COLUMNS.map((c) => field(row[c])).join(","))];
  return `${lines.join("\r\n")}\r\n`;
}
