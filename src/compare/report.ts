import type { LatencySummary } from "../loadgen/report.js";
import type { CompareWorkload } from "./options.js";
import { formatScaleOut } from "./scale-out.js";

/** One server in one mode: its calls before the kill, and how fast it answered them. */
export interface CompareBackend {
  /** 1-based lab server number (127.77.0.N). */
  server: number;
  /** "server 1 (slow)", "server 2 (killed)", … */
  label: string;
  count: number;
  /** Percent of the successful calls before the kill (of the whole run without one). */
  sharePct: number;
  p50Ms: number;
  p99Ms: number;
}

/** Calls per server (by label) and failures that ended within one second of the run. */
export interface CompareSecond {
  second: number;
  backends: Record<string, number>;
  failed: number;
}

/** How the mode's calls reached the server that joined DNS mid-run. */
export interface CompareScaleOut {
  /** When the newcomer was in DNS, in ms since the load started. */
  joinedAtMs: number;
  /** 1-based lab server number of the newcomer. */
  server: number;
  /** Calls it answered, and their percent of the successful calls that started after it joined. */
  calls: number;
  sharePct: number;
  /** Its fair share then: 100 over the live servers. */
  fairSharePct: number;
  /** From joining DNS to the start of its first call, in ms; null when it got none. */
  firstCallMs: number | null;
}

export interface CompareModeResult {
  mode: string;
  description: string;
  /** What balances: the process(es) whose CPU is counted. */
  balancer: string;
  /** Every server, answering or not, in server order; the balance before the kill. */
  backends: CompareBackend[];
  /** Coefficient of variation of the per-server counts before the kill (silent servers count as 0). */
  cv: number;
  /** Servers that answered at least one call before the kill. */
  backendsUsed: number;
  /** Latency of every call of the run. */
  latencyMs: LatencySummary;
  requests: { total: number; ok: number; failed: number };
  errors: Record<string, number>;
  /** When server 2 was killed, in ms since the load started; null without a kill. */
  killAtMs: number | null;
  /** Calls that failed from the kill's second on. */
  failedAfterKill: number;
  /** The newcomer after the scale-out; null without one, absent in reports from before it. */
  scaleOut?: CompareScaleOut | null;
  /** CPU seconds the balancing layer used during the load. */
  balancerCpuSec: number;
  /** CPU seconds of the client (this process) during the load. */
  clientCpuSec: number;
  perSecond: CompareSecond[];
}

/** What `grpc-lb lab compare --json` prints. */
export interface CompareReport {
  workload: CompareWorkload;
  envoyVersion: string;
  /** "haproxy 2.6.12", … for the peer modes that ran. */
  peerVersions?: string[];
  modes: CompareModeResult[];
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** The comparison as a table, one line per mode. */
export function formatCompareText(r: CompareReport): string {
  const w = r.workload;
  const head = `${w.servers} servers (server 1 ${w.slowServerMs} ms slower), ${w.connections} connections, ${w.ratePerSec} calls/s, at most ${w.concurrency} in flight, ${(w.durationMs / 1000).toFixed(1)} s per mode${w.tls === undefined ? "" : `, over ${w.tls === "mtls" ? "TLS (mTLS to the servers)" : "TLS"}`}${w.killAtMs === null ? "" : `, kill -9 of server 2 at ${(w.killAtMs / 1000).toFixed(1)} s`}; Envoy ${r.envoyVersion}${(r.peerVersions ?? []).map((v) => `, ${v}`).join("")}`;
  const cols = `${"mode".padEnd(22)} ${"share per server %".padEnd(20)}   cv  p50 ms  p99 ms  ${"p99 per server ms".padEnd(20)} failed  kill-failed  balancer CPU s  client CPU s`;
  const rows = r.modes.map(
    (m) =>
      `${m.mode.padEnd(22)} ${m.backends
        .map((b) => b.sharePct.toFixed(0))
        .join("/")
        .padEnd(
          20,
        )} ${m.cv.toFixed(2)} ${pad(m.latencyMs.p50.toFixed(2), 7)} ${pad(m.latencyMs.p99.toFixed(2), 7)}  ${m.backends
        .map((b) => (b.count === 0 ? "-" : b.p99Ms.toFixed(1)))
        .join("/")
        .padEnd(
          20,
        )} ${pad(m.requests.failed, 6)} ${pad(m.failedAfterKill, 12)} ${pad(m.balancerCpuSec.toFixed(2), 15)} ${pad(m.clientCpuSec.toFixed(2), 13)}`,
  );
  const legend = r.modes.map((m) => `  ${m.mode.padEnd(20)} ${m.description}; CPU of ${m.balancer}`);
  const scale = formatScaleOut(r);
  return `${head}\n\n${cols}\n${rows.join("\n")}\n\nshare and cv: calls before the kill; latency and failures: the whole run\n${legend.join("\n")}\n${scale.length === 0 ? "" : `\n${scale.join("\n")}\n`}`;
}
