import { type ClusterFrame, type HostErrors, type HostRow, totalRps } from "./interval.js";
import { choiceLine } from "./pick-cluster.js";
import type { Section } from "./view.js";

export type Style = "plain" | "bold" | "dim" | "green" | "yellow" | "red" | "magenta" | "cyan";
/** A line as pieces of text, each with its style: painted for a terminal or left plain. */
export type Line = [text: string, style: Style][];

const BAR_WIDTH = 20;
/** Envoy's health flags in a word or two, so that a row fits a terminal (docs/watch.md lists them). */
const FLAG_WORDS: Record<string, string> = {
  failed_active_health_check: "check failed",
  failed_outlier_check: "ejected",
  failed_eds_health: "eds unhealthy",
  pending_dynamic_removal: "removing",
  pending_active_hc: "check pending",
  excluded_via_immediate_hc_fail: "check excluded",
  active_hc_timeout: "check timeout",
  degraded_active_health_check: "degraded",
  degraded_eds_health: "eds degraded",
};

const rateText = (rps: number | null): string => (rps === null ? "…" : rps.toFixed(1));
const shareText = (share: number | null): string => (share === null ? "—" : `${(share * 100).toFixed(1)}%`);

/** Errors of the interval, the kinds that happened: "3 error, 1 timeout"; "—" when none, "" on a first reading. */
export function errorsText(e: HostErrors | null): string {
  if (e === null) return "";
  const parts = [
    e.error > 0 ? `${e.error} error` : "",
    e.timeout > 0 ? `${e.timeout} timeout` : "",
    e.connectFail > 0 ? `${e.connectFail} connect-fail` : "",
  ].filter((p) => p !== "");
  return parts.length === 0 ? "—" : parts.join(", ");
}

export const healthText = (h: HostRow): string =>
  h.flags.length === 0 ? "healthy" : h.flags.map((f) => FLAG_WORDS[f] ?? f.replaceAll("_", " ")).join(", ");

/** A bar of the host's share: BAR_WIDTH cells for all the calls, at least one for any. */
function bar(share: number | null): string {
  if (share === null) return " ".repeat(BAR_WIDTH);
  const full = share === 0 ? 0 : Math.max(1, Math.round(share * BAR_WIDTH));
  return `${"█".repeat(full)}${"·".repeat(BAR_WIDTH - full)}`;
}

function frameLines(f: ClusterFrame, intervalMs: number): Line[] {
  const total = totalRps(f);
  const lines: Line[] = [];
  if (f.missing) return [[[`  cluster '${f.cluster}' is gone from this Envoy`, "red"]]];
  const named = new Set(f.hosts.map((h) => h.hostname)).size > 1;
  const addrWidth = Math.max(4, ...f.hosts.map((h) => h.address.length + (h.added ? 6 : 0)));
  const nameWidth = named ? Math.max(8, ...f.hosts.map((h) => (h.hostname ?? "").length)) : 0;
  const healthWidth = Math.max(6, ...f.hosts.map((h) => healthText(h).length));
  const head = `  ${"HOST".padEnd(addrWidth)}${named ? `  ${"HOSTNAME".padEnd(nameWidth)}` : ""}  ${"CALLS/S".padStart(8)}  ${"ACTIVE".padStart(6)}  ${"SHARE".padStart(6)}  ${"".padEnd(BAR_WIDTH)}  ${"HEALTH".padEnd(healthWidth)}  ERRORS`;
  lines.push([[head, "bold"]]);
  for (const h of f.hosts) {
    const errors = errorsText(h.errors);
    lines.push([
      ["  ", "plain"],
      [h.address, "plain"],
      [h.added ? " (new)" : "", "cyan"],
      [" ".repeat(addrWidth - h.address.length - (h.added ? 6 : 0)), "plain"],
      [named ? `  ${(h.hostname ?? "").padEnd(nameWidth)}` : "", "dim"],
      [
        `  ${rateText(h.rps).padStart(8)}  ${String(h.active).padStart(6)}  ${shareText(h.share).padStart(6)}  `,
        "plain",
      ],
      [bar(h.share), "green"],
      ["  ", "plain"],
      [healthText(h).padEnd(healthWidth), h.ejected ? "magenta" : h.health === "healthy" ? "green" : "red"],
      [`  ${errors}`, errors === "—" || errors === "" ? "plain" : "yellow"],
    ]);
  }
  if (total !== null)
    lines.push([
      [
        `  ${"all".padEnd(addrWidth + (named ? nameWidth + 2 : 0))}  ${total.toFixed(1).padStart(8)}  ${String(f.hosts.reduce((n, h) => n + h.active, 0)).padStart(6)}`,
        "bold",
      ],
    ]);
  else
    lines.push([
      [
        `  first reading: calls/s, shares and errors come with the next one, in ${intervalMs / 1000} s`,
        "dim",
      ],
    ]);
  if (f.removed.length > 0) lines.push([[`  gone since the last reading: ${f.removed.join(", ")}`, "cyan"]]);
  if (f.reset)
    lines.push([
      [`  a counter went down (Envoy restarted, or a host came back): those count from 0`, "yellow"],
    ]);
  return lines;
}

/** A section's lines: a title naming the Envoy and cluster, then its hosts or why it could not be read. */
export function sectionLines(s: Section, intervalMs: number): Line[] {
  if (s.kind === "unread")
    return [
      [[choiceLine(s.admin, s.choice), "bold"]],
      [
        [
          `  no answer at ${s.ts.slice(11, 19)} UTC: ${s.message}; trying again in ${intervalMs / 1000} s`,
          "red",
        ],
      ],
    ];
  const f = s.frame;
  const when = `${f.ts.slice(11, 19)} UTC`;
  const title = `${choiceLine(f.admin, s.choice)}, ${f.hosts.length} host${f.hosts.length === 1 ? "" : "s"}, ${when}`;
  return [[[title, "bold"]], ...frameLines(f, intervalMs)];
}

const SGR: Record<Style, string> = {
  plain: "",
  bold: "1",
  dim: "2",
  green: "32",
  yellow: "33",
  red: "31",
  magenta: "35",
  cyan: "36",
};

/** The line as text, cut at `columns` characters, with ANSI colours when `colour`. */
export function paint(line: Line, colour: boolean, columns = Number.POSITIVE_INFINITY): string {
  let left = columns;
  let out = "";
  for (const [text, style] of line) {
    const piece = [...text].slice(0, Math.max(0, left)).join("");
    left -= [...piece].length;
    if (piece === "") continue;
    out += colour && style !== "plain" ? `\x1b[${SGR[style]}m${piece}\x1b[0m` : piece;
  }
  return out.trimEnd();
}
