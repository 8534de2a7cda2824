import { compareCharts } from "./charts.js";
import { chartFigures, escapeHtml, htmlPage } from "./html-page.js";
import type { CompareReport } from "./report.js";
import { scaleOutCells } from "./scale-out.js";

/**
 * The comparison as one self-contained page: tables, and charts drawn into
 * it as SVG by vega at generation time. No script, no font, no image to
 * fetch; the page's Content-Security-Policy forbids any request.
 */
export async function formatCompareHtml(r: CompareReport): Promise<string> {
  const charts = await chartFigures(compareCharts(r));
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
  return htmlPage(`<h1>L4, Envoy, HAProxy, nginx and client-side balancing of one gRPC workload</h1>
<p>${w.servers} servers, server 1 ${w.slowServerMs} ms slower; ${w.connections} client connections; ${w.ratePerSec} calls/s, at most ${w.concurrency} in flight; ${(w.durationMs / 1000).toFixed(1)} s per mode${w.killAtMs === null ? "" : `; kill -9 of server 2 at ${(w.killAtMs / 1000).toFixed(1)} s`}${w.scaleAtMs === undefined || w.scaleAtMs === null ? "" : `; a new server joins DNS at ${(w.scaleAtMs / 1000).toFixed(1)} s`}. Envoy ${escapeHtml(r.envoyVersion)}${(r.peerVersions ?? []).map((v) => `, ${escapeHtml(v)}`).join("")}.</p>
<table>
<thead><tr><th>mode</th><th>what balances</th><th>share per server % (before the kill)</th><th>cv</th><th>p50 ms</th><th>p99 ms</th><th>p99 per server ms</th><th>failed</th><th>failed after the kill</th><th>balancer CPU s</th><th>client CPU s</th><th>newcomer share % after joining (fair)</th><th>joining to first call ms</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
${charts.join("\n")}`);
}
