import type { LabServer } from "../lab/servers.js";
import type { CallOutcome } from "../loadgen/recorder.js";
import type { CompareModeResult, CompareReport, CompareScaleOut } from "./report.js";

/**
 * How calls reached a server that joined DNS at `joinedAtMs`: its share of the successful calls
 * started since, against the fair share over `liveServers`, and how long until its first call.
 */
export function scaleOutOf(
  newcomer: LabServer,
  joinedAtMs: number,
  liveServers: number,
  outcomes: readonly CallOutcome[],
): CompareScaleOut {
  const after = outcomes.filter((c) => c.code === 0 && c.startMs >= joinedAtMs);
  const mine = after.filter((c) => c.serverId === newcomer.id);
  const first = mine.reduce((t, c) => Math.min(t, c.startMs), Number.POSITIVE_INFINITY);
  return {
    joinedAtMs: Math.round(joinedAtMs),
    server: newcomer.index + 1,
    calls: mine.length,
    sharePct: after.length === 0 ? 0 : Math.round((1000 * mine.length) / after.length) / 10,
    fairSharePct: Math.round(1000 / liveServers) / 10,
    firstCallMs: Number.isFinite(first) ? Math.round(first - joinedAtMs) : null,
  };
}

/** The newcomer's figures for a table cell: "31.0 (33.3)" and "372"; "-" where not measured. */
export function scaleOutCells(m: CompareModeResult): { share: string; firstCall: string } {
  const s = m.scaleOut;
  if (s === undefined || s === null) return { share: "-", firstCall: "-" };
  return {
    share: `${s.sharePct.toFixed(1)} (${s.fairSharePct.toFixed(1)})`,
    firstCall: s.firstCallMs === null ? "never" : String(s.firstCallMs),
  };
}

/** One line per mode under the table: what the newcomer got, or why the mode could not see it. */
export function formatScaleOut(r: CompareReport): string[] {
  const at = r.workload.scaleAtMs;
  if (at === undefined || at === null) return [];
  const line = (m: CompareModeResult): string => {
    const s = m.scaleOut;
    if (s === undefined || s === null) return "not measured";
    const first = s.firstCallMs === null ? "no call" : `first call ${s.firstCallMs} ms after joining`;
    return `server ${s.server} in DNS at ${(s.joinedAtMs / 1000).toFixed(1)} s took ${s.sharePct.toFixed(1)} % of the calls since (fair ${s.fairSharePct.toFixed(1)} %), ${first}`;
  };
  return [
    `scale-out: one more server, started before the load, joins DNS at ${(at / 1000).toFixed(1)} s`,
    ...r.modes.map((m) => `  ${m.mode.padEnd(20)} ${line(m)}`),
  ];
}
