import { statusName } from "../report.js";
import type { StreamKind } from "./open-stream.js";

/** Streams open per server at one moment of a stream run. */
export interface StreamSample {
  /** Milliseconds since the streams started. */
  atMs: number;
  /** Subscriptions with a stream open that has named its server (a reply came). */
  open: number;
  /** Those streams by the server_id serving them. */
  byServer: Record<string, number>;
}

/** What `grpc-lb load --streams N` reports. */
export interface StreamReport {
  target: string;
  engine: "h2" | "grpc-js";
  /** Subscribe (the server sends at the asked pace) or Exchange (bidi: the client sends, the server answers). */
  kind: StreamKind;
  /** Subscriptions held open. */
  streams: number;
  intervalMs: number;
  /** The client's maximum lifetime asked of each stream, in ms; 0 left it to the server. */
  maxLifetimeMs: number;
  durationMs: number;
  /** Every sampleMs: streams open per server. */
  samples: StreamSample[];
  /** Replies received per server_id. */
  messagesByServer: Record<string, number>;
  /** The address each server_id gave. */
  addresses: Record<string, string>;
  /** Streams that ended before the run did, by status name (OK: the server ended it cleanly). */
  endsByStatus: Record<string, number>;
  /** Streams opened again from the last sequence number received. */
  resumes: number;
  /** Replies received in order, each once. */
  delivered: number;
  /** Sequence numbers never received. Must be 0. */
  lost: number;
  /** Replies received more than once. Must be 0. */
  duplicated: number;
  /** Subscriptions that gave up (a final status, or ends with no reply in a row). */
  failedStreams: number;
  /** Why, for the first few that gave up. */
  failures: string[];
  /** Ctrl-C ended the run. */
  interrupted: boolean;
}

const pad = (s: string, n: number): string => s.padEnd(n);

/** The report as text: totals, then per server messages and the streams it held over time. */
export function formatStreamReportText(r: StreamReport, everyNthSample = 1): string {
  const lines: string[] = [];
  lines.push(
    `${r.streams} ${r.kind === "exchange" ? "Exchange (bidi) streams" : "streams"} of ${r.target} (${r.engine} engine), ${r.kind === "exchange" ? "a message sent and answered" : "a reply"} every ${r.intervalMs} ms, for ${(r.durationMs / 1000).toFixed(1)} s${r.interrupted ? " (interrupted)" : ""}`,
  );
  lines.push(
    `replies: ${r.delivered} delivered, ${r.lost} lost, ${r.duplicated} duplicated; resumes: ${r.resumes}; failed streams: ${r.failedStreams}`,
  );
  const ends = Object.entries(r.endsByStatus);
  lines.push(`stream ends: ${ends.length === 0 ? "none" : ends.map(([k, v]) => `${k} ${v}`).join(", ")}`);
  for (const f of r.failures) lines.push(`  gave up: ${f}`);
  const servers = Object.keys({ ...r.messagesByServer, ...r.addresses }).sort();
  lines.push("", `${pad("server_id", 10)} ${pad("address", 22)} ${pad("replies", 9)} streams now`);
  const last = r.samples.at(-1);
  for (const id of servers) {
    lines.push(
      `${pad(id.slice(0, 8), 10)} ${pad(r.addresses[id] ?? "", 22)} ${pad(String(r.messagesByServer[id] ?? 0), 9)} ${last?.byServer[id] ?? 0}`,
    );
  }
  if (r.samples.length > 0) {
    lines.push("", `streams per server over time (${servers.map((s) => s.slice(0, 8)).join(" ")}):`);
    r.samples.forEach((s, i) => {
      if (i % everyNthSample !== 0 && i !== r.samples.length - 1) return;
      const row = servers.map((id) => String(s.byServer[id] ?? 0).padStart(8)).join(" ");
      lines.push(`${(s.atMs / 1000).toFixed(1).padStart(6)} s ${row}   (${s.open} open)`);
    });
  }
  return `${lines.join("\n")}\n`;
}

/** Ends by status name, from the codes. */
export function endsByStatus(codes: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of codes) out[statusName(c)] = (out[statusName(c)] ?? 0) + 1;
  return out;
}
