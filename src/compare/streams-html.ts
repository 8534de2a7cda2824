import { type ChartSpec, FONT, joinRule, SCHEMA } from "./charts.js";
import { chartFigures, escapeHtml, htmlPage } from "./html-page.js";
import { type StreamsCompareReport, streamsCells, streamsHeadline, streamsNotes } from "./streams-report.js";

/** Streams per server before and after the scale-out, and over time with the newcomer's joining. */
export function streamsCharts(r: StreamsCompareReport): ChartSpec[] {
  const modes = r.modes.map((m) => m.mode);
  const ends = r.modes.flatMap((m) =>
    m.servers.flatMap((s) => [
      { row: `${m.mode} before`, mode: m.mode, server: s.label, streams: s.before },
      { row: `${m.mode} after`, mode: m.mode, server: s.label, streams: s.after },
    ]),
  );
  const series = r.modes.flatMap((m) =>
    m.samples.flatMap((x) =>
      m.servers.map((s) => ({
        mode: m.mode,
        second: x.atMs / 1000,
        server: s.label,
        streams: x.byServer[s.label] ?? 0,
      })),
    ),
  );
  const joins = r.modes.flatMap((m) =>
    m.newcomer ? [{ mode: m.mode, second: m.newcomer.joinedAtMs / 1000 }] : [],
  );
  return [
    {
      id: "streams-share",
      title: "Streams per server the moment the newcomer joined (before) and at the end (after)",
      spec: {
        $schema: SCHEMA,
        width: 520,
        height: { step: 12 },
        data: { values: ends },
        mark: "bar",
        encoding: {
          // One bar per mode and moment, stacked by server: a row per pair keeps the stacks apart.
          y: {
            field: "row",
            type: "nominal",
            sort: modes.flatMap((m) => [`${m} before`, `${m} after`]),
            title: null,
            axis: { labelLimit: 260 },
          },
          x: { field: "streams", type: "quantitative", stack: "zero", title: "streams" },
          color: { field: "server", type: "nominal", title: "server" },
          tooltip: [{ field: "row" }, { field: "server" }, { field: "streams" }],
        },
        config: { axis: FONT, legend: FONT },
      },
    },
    {
      id: "streams-time",
      title: "Streams open per server over time; the newcomer joins at the dotted line",
      spec: {
        $schema: SCHEMA,
        data: {
          values: [
            ...series.map((s) => ({ ...s, kill: false })),
            ...joins.map((j) => ({ ...j, kill: true, event: "join" })),
          ],
        },
        facet: { field: "mode", type: "nominal", sort: modes, title: null },
        columns: 4,
        spec: {
          width: 180,
          height: 110,
          layer: [
            {
              transform: [{ filter: "!datum.kill" }],
              mark: { type: "line" },
              encoding: {
                x: { field: "second", type: "quantitative", title: "second" },
                y: { field: "streams", type: "quantitative", title: "streams" },
                color: { field: "server", type: "nominal", title: "server" },
              },
            },
            joinRule(),
          ],
        },
        config: { axis: FONT, legend: FONT, header: FONT },
      },
    },
  ];
}

/** The streams comparison as one self-contained page: the table, the notes and the charts. */
export async function formatStreamsCompareHtml(r: StreamsCompareReport): Promise<string> {
  const charts = await chartFigures(streamsCharts(r));
  const rows = r.modes.map((m) => {
    const c = streamsCells(m);
    const cells = [
      c.before,
      c.after,
      c.newcomer,
      c.firstNew,
      m.ended,
      m.resumes,
      m.lost,
      m.duplicated,
      m.failedStreams,
    ];
    return `<tr><td>${escapeHtml(m.mode)}</td><td>${escapeHtml(m.description)}</td>${cells.map((x) => `<td>${escapeHtml(x)}</td>`).join("")}</tr>`;
  });
  const notes = streamsNotes(r);
  return htmlPage(`<h1>Long-lived gRPC streams through L4, Envoy, HAProxy, nginx and client-side balancing</h1>
<p>${escapeHtml(streamsHeadline(r))}.</p>
<table>
<thead><tr><th>mode</th><th>what balances</th><th>streams per server before the newcomer joined</th><th>streams per server at the end (newcomer last)</th><th>newcomer share % at the end (fair)</th><th>joining to its first stream ms</th><th>streams ended</th><th>resumed</th><th>replies lost</th><th>replies duplicated</th><th>failed streams</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
${notes.length === 0 ? "" : `<ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>\n`}${charts.join("\n")}`);
}
