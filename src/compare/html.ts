import { compareCharts, renderSvg } from "./charts.js";
import type { CompareReport } from "./report.js";
import { scaleOutCells } from "./scale-out.js";

const escapeHtml = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The comparison as one self-contained page: tables, and charts drawn into
 * it as SVG by vega at generation time. No script, no font, no image to
 * fetch; the page's Content-Security-Policy forbids any request.
 */
export async function formatCompareHtml(r: CompareReport): Promise<string> {
  const charts = await Promise.all(
    compareCharts(r).map(
      async (c) =>
        `<figure id="chart-${c.id}" class="chart"><figcaption>${escapeHtml(c.title)}</figcaption>${await renderSvg(c.spec)}</figure>`,
    ),
  );
  const w = r.workload;
  const rows = r.modes.map(
    (m) =>
      `<tr><td>${escapeHtml(m.mode)}</td><td>${escapeHtml(m.description)}</td><td>${m.backends
        .map((b) => b.sharePct.toFixed(1))
        .join(
          " / ",
        )}</td><td>${m.cv.toFixed(3)}</td><td>${m.latencyMs.p50.toFixed(1)}</td><td>${m.latencyMs.p99.toFixed(1)}</td><td>${m.backends
        .map((b) => (b.count === 0 ? "-" : b.p99Ms.toFixed(1)))
        .join(
          " / ",
        )}</td><td>${m.requests.failed}</td><td>${m.failedAfterKill}</td><td>${m.balancerCpuSec.toFixed(2)}</td><td>${m.clientCpuSec.toFixed(2)}</td><td>${escapeHtml(scaleOutCells(m).share)}</td><td>${escapeHtml(scaleOutCells(m).firstCall)}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>grpc-lb lab compare</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 1100px; }
table { border-collapse: collapse; margin-bottom: 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; font-variant-numeric: tabular-nums; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
figure.chart { margin: 1.5rem 0; }
figcaption { font-weight: 600; margin-bottom: 0.5rem; }
</style>
</head>
<body>
<h1>L4, Envoy, HAProxy, nginx and client-side balancing of one gRPC workload</h1>
<p>${w.servers} servers, server 1 ${w.slowServerMs} ms slower; ${w.connections} client connections; ${w.ratePerSec} calls/s, at most ${w.concurrency} in flight; ${(w.durationMs / 1000).toFixed(1)} s per mode${w.killAtMs === null ? "" : `; kill -9 of server 2 at ${(w.killAtMs / 1000).toFixed(1)} s`}${w.scaleAtMs === undefined || w.scaleAtMs === null ? "" : `; a new server joins DNS at ${(w.scaleAtMs / 1000).toFixed(1)} s`}. Envoy ${escapeHtml(r.envoyVersion)}${(r.peerVersions ?? []).map((v) => `, ${escapeHtml(v)}`).join("")}.</p>
<table>
<thead><tr><th>mode</th><th>what balances</th><th>share per server % (before the kill)</th><th>cv</th><th>p50 ms</th><th>p99 ms</th><th>p99 per server ms</th><th>failed</th><th>failed after the kill</th><th>balancer CPU s</th><th>client CPU s</th><th>newcomer share % after joining (fair)</th><th>joining to first call ms</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
${charts.join("\n")}
</body>
</html>
`;
}
