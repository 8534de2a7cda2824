import type { LabTlsKind } from "../lab/lab-tls.js";
import { stepLabel } from "./sizing-result.js";
import type { HandshakeRun, TlsCostResult, TlsCostRun } from "./tls-cost-result.js";

export const TLS_MODE_LABELS: Record<LabTlsKind, string> = {
  off: "plaintext",
  downstream: "TLS downstream",
  tls: "TLS both legs",
  mtls: "mTLS",
};

const fixed = (n: number | null, digits: number): string =>
  n === null || !Number.isFinite(n) ? "-" : n.toFixed(digits);
const plus = (n: number | null): string =>
  n === null || !Number.isFinite(n) ? "-" : `${n >= 0 ? "+" : ""}${n.toFixed(2)}`;
const minus = (a: number | null, b: number | null): number | null =>
  a === null || b === null ? null : a - b;

const WIDTHS = [15, 8, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 10, 10, 7] as const;
const line = (cells: readonly string[]): string =>
  cells
    .map((c, i) => (i === 0 ? c.padEnd(WIDTHS[0]) : c.padStart(WIDTHS[i] ?? 0)))
    .join("")
    .trimEnd();

/** The TLS cost table: per call at one load, and per new connection, with what each adds over plaintext. */
export function formatTlsCost(r: TlsCostResult): string {
  const plain = r.rows.find((w) => w.mode === "off");
  const group = (text: string, from: number, to: number): string =>
    text.padStart(WIDTHS.slice(from, to + 1).reduce((a, b) => a + b, 0));
  const head = [
    `${"".padEnd(WIDTHS[0])}${group("", 1, 1)}${group("via Envoy ms", 2, 3)}${group("added ms", 4, 5)}${group("+ over plain", 6, 7)}${group("CPU µs/call", 8, 9)}${group("new connection", 10, 13)}`,
    line(
      "mode|calls/s|p50|p99|p50|p99|p50|p99|Envoy|servers|ms p50|+ ms|Envoy µs|client µs|failed".split("|"),
    ),
  ];
  const rows = r.rows.map((w) =>
    line([
      TLS_MODE_LABELS[w.mode],
      String(Math.round(w.callsPerSec)),
      fixed(w.p50Ms, 2),
      fixed(w.p99Ms, 2),
      plus(w.addedOverDirect.p50Ms),
      plus(w.addedOverDirect.p99Ms),
      plus(w.addedOverPlaintext.p50Ms),
      plus(w.addedOverPlaintext.p99Ms),
      fixed(w.envoyCpuUsPerCall, 0),
      fixed(w.serverCpuUsPerCall, 0),
      fixed(w.newConnection.p50Ms, 2),
      plus(minus(w.newConnection.p50Ms, plain?.newConnection.p50Ms ?? null)),
      fixed(w.newConnection.envoyCpuUs, 0),
      fixed(w.newConnection.clientCpuUs, 0),
      String(w.failed),
    ]),
  );
  const handshake = r.rows.flatMap((w) => {
    if (w.mode === "off" || plain === undefined) return [];
    const envoy = minus(w.newConnection.envoyCpuUs, plain.newConnection.envoyCpuUs);
    const client = minus(w.newConnection.clientCpuUs, plain.newConnection.clientCpuUs);
    return [`${TLS_MODE_LABELS[w.mode]} Envoy ${fixed(envoy, 0)} µs, client ${fixed(client, 0)} µs`];
  });
  const m = r.machine;
  const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(" ");
  return [
    `What TLS costs: Envoy ${m.envoy}, Node ${m.node}, ${m.cores} cores, load average ${load(m.loadAvgStart)} at the start, ${load(m.loadAvgEnd)} at the end`,
    `${stepLabel(r.step)} to ${r.servers} servers, one lab per mode; medians of ${r.repeats} runs of ${r.stepMs} ms, every path in turn each round`,
    ...head,
    ...rows,
    "added = via Envoy minus grpc-js round_robin straight to the plaintext servers; + over plain = minus the plaintext Envoy; paired run by run",
    "CPU net of each lab's idle cost (health checks, DNS refresh, stats), pro rata; TLS downstream: listener TLS, servers plaintext; mTLS: servers also require Envoy's certificate",
    `new connection: ${r.connections} fresh channels per round, one after another, each connecting, making one call and closing; + ms over plaintext is the handshake`,
    `CPU per TLS handshake (new connection over plaintext's): ${handshake.length === 0 ? "-" : handshake.join("; ")}`,
    "",
  ].join("\n");
}

/** One progress line: a load run or a handshake loop. */
export function describeTlsCostRun(r: TlsCostRun | HandshakeRun): string {
  const failed = r.failed > 0 ? `, ${r.failed} failed` : "";
  if ("connections" in r)
    return `bench: TLS cost, ${TLS_MODE_LABELS[r.mode]} round ${r.repeat + 1}: ${r.connections} new connections, p50 ${r.p50Ms.toFixed(2)} ms, p90 ${r.p90Ms.toFixed(2)} ms${failed}, Envoy CPU ${r.envoyCpu.cpuSec.toFixed(2)} s`;
  const where =
    r.path === "direct" ? "direct (plaintext, round_robin)" : `via Envoy, ${TLS_MODE_LABELS[r.path]}`;
  const envoy = r.envoyCpu === null ? "" : `, Envoy CPU ${r.envoyCpu.cpuSec.toFixed(2)} s`;
  return `bench: TLS cost, ${where} round ${r.repeat + 1}: ${r.calls} calls at ${Math.round(r.callsPerSec)}/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${failed}${envoy}, servers CPU ${r.serverCpu.cpuSec.toFixed(2)} s`;
}
