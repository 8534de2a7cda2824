import { type SizingResult, stepLabel } from "./sizing-result.js";

const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "-");
const plus = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(2)}` : "-");
const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(" ");

/** Widths of the table's columns; the header's groups span pairs of them. */
const WIDTHS = [7, 12, 7, 6, 7, 8, 7, 8, 8, 8, 11, 12, 9, 7] as const;

function tableLine(cells: readonly string[]): string {
  return cells
    .map((c, i) => (i === 1 ? ` ${c.padEnd(WIDTHS[i] ?? 0)}` : c.padStart(WIDTHS[i] ?? 0)))
    .join("")
    .trimEnd();
}

/** A header cell spanning columns `from` to `to` (inclusive), right-aligned over them. */
const span = (text: string, from: number, to: number): string =>
  text.padStart(WIDTHS.slice(from, to + 1).reduce((a, b) => a + b, 0));

/** The sizing table, with the machine and its load above it and the noise below. */
export function formatSizing(r: SizingResult): string {
  const head = [
    `${"envoy".padStart(7)} ${"load".padEnd(12)}${span("calls/s", 2, 3)}${span("direct ms", 4, 5)}${span("via Envoy ms", 6, 7)}${span("added ms", 8, 9)}${span("Envoy CPU", 10, 10)}${span("cores per", 11, 11)}${span("Envoy ÷", 12, 12)}`,
    tableLine([
      "workers",
      "",
      "direct",
      "envoy",
      "p50",
      "p99",
      "p50",
      "p99",
      "p50",
      "p99",
      "µs/call",
      "1000 call/s",
      "client",
      "failed",
    ]),
  ];
  const rows = r.rows.map((w) =>
    tableLine([
      String(w.envoyConcurrency),
      stepLabel(w.step),
      String(Math.round(w.direct.callsPerSec)),
      String(Math.round(w.envoy.callsPerSec)),
      ms(w.direct.p50Ms),
      ms(w.direct.p99Ms),
      ms(w.envoy.p50Ms),
      ms(w.envoy.p99Ms),
      plus(w.addedP50Ms),
      plus(w.addedP99Ms),
      w.envoyCpuUsPerCall === null ? "-" : String(Math.round(w.envoyCpuUsPerCall)),
      w.envoyCoresPer1000CallsPerSec === null ? "-" : w.envoyCoresPer1000CallsPerSec.toFixed(2),
      w.envoyPerClientCpu === null ? "-" : w.envoyPerClientCpu.toFixed(2),
      String(w.failed),
    ]),
  );
  const m = r.machine;
  const idle = r.idle
    .map(
      (i) => `${i.envoyConcurrency} worker${i.envoyConcurrency === 1 ? "" : "s"} ${i.cores.toFixed(3)} cores`,
    )
    .join(", ");
  const worst = (xs: number[]): string => (xs.length === 0 ? "-" : Math.max(...xs).toFixed(2));
  return [
    `What the Envoy hop costs: Envoy ${m.envoy}, Node ${m.node}, ${m.cores} cores, load average ${load(m.loadAvgStart)} at the start, ${load(m.loadAvgEnd)} at the end`,
    `direct = grpc-js round_robin over the lab's DNS to the same ${r.servers} servers; medians of ${r.repeats} runs of ${r.stepMs} ms per cell, direct and via Envoy alternating`,
    ...head,
    ...rows,
    `Envoy idle (health checks, DNS refresh, stats), subtracted pro rata: ${idle}`,
    `Envoy ÷ client: Envoy's CPU per call over the load tool's own (grpc-js, direct path) in the same row, a yardstick for this machine's speed and load`,
    `noise: added p50 varied by up to ${worst(r.rows.map((w) => w.addedP50SpreadMs))} ms between runs of one cell, Envoy CPU by up to ${worst(r.rows.map((w) => w.envoyCpuUsPerCallSpread))} µs/call`,
    "",
  ].join("\n");
}
