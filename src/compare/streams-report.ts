import type { CompareWorkload } from "./options.js";
import type { CompareStreamsModeResult } from "./streams-result.js";

/** The streams workload, as the report states it. */
export type StreamsCompareWorkload = Omit<CompareWorkload, "ratePerSec" | "concurrency"> & {
  kind: "streams";
  /** Subscribe streams held through each mode. */
  streams: number;
  /** Pause between a stream's replies, in ms. */
  intervalMs: number;
};

/** What `grpc-lb lab compare --workload streams --json` prints. */
export interface StreamsCompareReport {
  workload: StreamsCompareWorkload;
  envoyVersion: string;
  peerVersions?: string[];
  modes: CompareStreamsModeResult[];
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** The cells of one mode's row, shared by the text table and the page. */
export function streamsCells(m: CompareStreamsModeResult) {
  const old = m.servers.filter((s) => s.server !== m.newcomer?.server);
  const n = m.newcomer;
  return {
    before: old.map((s) => s.before).join("/"),
    after: m.servers.map((s) => s.after).join("/"),
    newcomer: n === null ? "-" : `${n.sharePct.toFixed(1)} (${n.fairSharePct.toFixed(1)})`,
    firstNew: n === null ? "-" : n.firstStreamMs === null ? "never" : String(n.firstStreamMs),
  };
}

/** Lines for what the table cannot hold: streams between two streams at the end, and why streams gave up. */
export function streamsNotes(r: StreamsCompareReport): string[] {
  return r.modes.flatMap((m) => {
    const between = r.workload.streams - m.openAfter - m.failedStreams;
    return [
      ...(between > 0
        ? [`${m.mode}: ${between} of ${r.workload.streams} streams were resuming at the end`]
        : []),
      ...m.failures.map((f) => `${m.mode}: gave up: ${f}`),
    ];
  });
}

/** The headline of the streams comparison: the workload, the timeline and the versions. */
export function streamsHeadline(r: StreamsCompareReport): string {
  const w = r.workload;
  const tls = w.tls === undefined ? "" : `, over ${w.tls === "mtls" ? "TLS (mTLS to the servers)" : "TLS"}`;
  const kill = w.killAtMs === null ? "" : `; kill -9 of server 2 at ${(w.killAtMs / 1000).toFixed(1)} s`;
  const scale =
    w.scaleAtMs === undefined || w.scaleAtMs === null
      ? "; no scale-out"
      : `; server ${w.servers + 1} joins at ${(w.scaleAtMs / 1000).toFixed(1)} s`;
  const failed = r.modes.reduce((a, m) => a + m.failedStreams, 0);
  return `${w.streams} streams per mode (a reply every ${w.intervalMs} ms) over ${w.connections} connections to ${w.servers} servers (server 1 ${w.slowServerMs} ms slower)${tls}, ${(w.durationMs / 1000).toFixed(1)} s per mode from the moment every stream is open${kill}${scale}; failed streams: ${failed}; Envoy ${r.envoyVersion}${(r.peerVersions ?? []).map((v) => `, ${v}`).join("")}`;
}

/** The streams comparison as a table, one line per mode. */
export function formatStreamsCompareText(r: StreamsCompareReport): string {
  const cols = `${"mode".padEnd(22)} ${"streams per server: before -> after".padEnd(36)} ${"newcomer % (fair)".padEnd(17)} 1st new ms  ended  resumed  lost  dup  failed`;
  const rows = r.modes.map((m) => {
    const c = streamsCells(m);
    return `${m.mode.padEnd(22)} ${`${c.before} -> ${c.after}`.padEnd(36)} ${c.newcomer.padEnd(17)} ${pad(c.firstNew, 10)} ${pad(m.ended, 6)} ${pad(m.resumes, 8)} ${pad(m.lost, 5)} ${pad(m.duplicated, 4)} ${pad(m.failedStreams, 7)}`;
  });
  const legend = r.modes.map((m) => `  ${m.mode.padEnd(20)} ${m.description}`);
  const notes = streamsNotes(r).map((l) => `  ${l}`);
  return `${streamsHeadline(r)}

${cols}
${rows.join("\n")}

before: streams open per server the moment the newcomer joined; after: at the end of the run (the newcomer last)
newcomer %: its share of the streams at the end, fair share in brackets; 1st new ms: from joining to its first stream
ended: streams that ended during the run; resumed: opened again from their last sequence number;
lost, dup: replies lost or received twice; failed: streams that gave up
${legend.join("\n")}
${notes.length === 0 ? "" : `\n${notes.join("\n")}\n`}`;
}
