import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { CompareReport } from "./report.js";

/** One chart of the page: its title and the vega-lite spec that draws it. */
export interface ChartSpec {
  id: string;
  title: string;
  spec: TopLevelSpec;
}

const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d", "#72b7b2", "#eeca3b", "#ff9da6"];
/** The fonts of every chart's axes, legends and headers. */
export const FONT = {
  font: "system-ui, sans-serif",
  labelFont: "system-ui, sans-serif",
  titleFont: "system-ui, sans-serif",
};

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** The y axis of a chart with a row per mode, in the order the modes ran. */
export const modeAxis = (modes: readonly string[]) =>
  ({ field: "mode", type: "nominal", sort: [...modes], title: null }) as const;

/** A dotted green rule at the second a newcomer joined, over data rows with `kill: true, event: "join"`. */
export const joinRule = () => ({
  transform: [{ filter: "datum.kill && datum.event === 'join'" }],
  mark: { type: "rule" as const, strokeDash: [1, 2], color: "#2ca02c" },
  encoding: { x: { field: "second", type: "quantitative" as const } },
});

/** The charts a reader would rather look at than read: share, latency, and the seconds around the kill. */
export function compareCharts(r: CompareReport): ChartSpec[] {
  const modes = r.modes.map((m) => m.mode);
  // One colour per server in every chart, failures in black.
  // Every server a mode listed, and the newcomer of a scale-out, which only its seconds name.
  const serversOf = (m: CompareReport["modes"][number]): string[] => [
    ...new Set([...m.backends.map((b) => b.label), ...m.perSecond.flatMap((x) => Object.keys(x.backends))]),
  ];
  const labels = [...new Set(r.modes.flatMap(serversOf))];
  const serverColor = { domain: labels, range: PALETTE.slice(0, labels.length) };
  const seriesColor = {
    domain: [...labels, "failed"],
    range: [...PALETTE.slice(0, labels.length), "#000000"],
  };
  const shares = r.modes.flatMap((m) =>
    m.backends.map((b) => ({ mode: m.mode, server: b.label, share: b.sharePct })),
  );
  const latency = r.modes.flatMap((m) => [
    { mode: m.mode, percentile: "p50", ms: m.latencyMs.p50 },
    { mode: m.mode, percentile: "p99", ms: m.latencyMs.p99 },
  ]);
  const series = r.modes.flatMap((m) => {
    const servers = serversOf(m);
    return m.perSecond.flatMap((s) => [
      ...servers.map((server) => ({
        mode: m.mode,
        second: s.second,
        series: server,
        calls: s.backends[server] ?? 0,
      })),
      { mode: m.mode, second: s.second, series: "failed", calls: s.failed },
    ]);
  });
  const kills = r.modes
    .filter((m) => m.killAtMs !== null)
    .map((m) => ({ mode: m.mode, second: (m.killAtMs ?? 0) / 1000, event: "kill" }));
  const joins = r.modes.flatMap((m) =>
    m.scaleOut ? [{ mode: m.mode, second: m.scaleOut.joinedAtMs / 1000, event: "join" }] : [],
  );
  return [
    {
      id: "share",
      title: "Share of calls per server, before the kill",
      spec: {
        $schema: SCHEMA,
        width: 560,
        height: { step: 22 },
        data: { values: shares },
        mark: "bar",
        encoding: {
          y: modeAxis(modes),
          x: {
            field: "share",
            type: "quantitative",
            title: "share of calls (%)",
            scale: { domain: [0, 100] },
          },
          color: { field: "server", type: "nominal", title: "server", scale: serverColor },
          tooltip: [{ field: "mode" }, { field: "server" }, { field: "share", format: ".1f" }],
        },
        config: { axis: FONT, legend: FONT },
      },
    },
    {
      id: "latency",
      title: "Latency per mode (every call of the run)",
      spec: {
        $schema: SCHEMA,
        width: 560,
        height: { step: 14 },
        data: { values: latency },
        mark: "bar",
        encoding: {
          y: modeAxis(modes),
          yOffset: { field: "percentile", type: "nominal" },
          x: { field: "ms", type: "quantitative", title: "latency (ms)" },
          color: { field: "percentile", type: "nominal", scale: { range: ["#4c78a8", "#e45756"] } },
        },
        config: { axis: FONT, legend: FONT },
      },
    },
    {
      id: "kill",
      title:
        "Calls per second per server, and failures, around the kill -9 of server 2 (dashed line) and the new server joining DNS (dotted line)",
      spec: {
        $schema: SCHEMA,
        data: {
          values: [
            ...series.map((s) => ({ ...s, kill: false })),
            ...[...kills, ...joins].map((k) => ({ ...k, kill: true })),
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
              mark: { type: "line", point: true },
              encoding: {
                x: { field: "second", type: "quantitative", title: "second" },
                y: { field: "calls", type: "quantitative", title: "calls" },
                color: { field: "series", type: "nominal", title: "series", scale: seriesColor },
              },
            },
            {
              transform: [{ filter: "datum.kill && datum.event === 'kill'" }],
              mark: { type: "rule", strokeDash: [4, 3], color: "black" },
              encoding: { x: { field: "second", type: "quantitative" } },
            },
            joinRule(),
          ],
        },
        config: { axis: FONT, legend: FONT, header: FONT },
      },
    },
  ];
}

/** Renders a vega-lite spec to SVG text in Node, with no browser and no network. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
