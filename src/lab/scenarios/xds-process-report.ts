import type { RequestResult } from "../../loadgen/paced-load.js";
import { check, distribution, round, type ScenarioCheck } from "../../scenarios/report.js";
import { byStatus } from "./xds-proxyless-report.js";

/** A load of the xDS process phase (through its Envoy, or proxyless) and its moments on the load's clock. */
export interface LoadSide {
  name: "Envoy" | "proxyless";
  load: { now(): number; readonly results: readonly RequestResult[] };
  marks: Map<string, number>;
}

/** The windows of the phase: before the kill, while the process is dead, restarted, after the file changed. */
const WINDOWS = [
  ["before", "from", "killed"],
  ["down", "killed", "restarted"],
  ["back", "restarted", "changed"],
  ["after", "changed", "to"],
] as const;
type Window = (typeof WINDOWS)[number][0];

/** What one load saw of the process's death and restart. */
export interface SideResult {
  /** Its calls started from the window before the kill to the end, and those that failed. */
  calls: number;
  failed: number;
  failures: Record<string, number>;
  /** Servers that answered its calls in each window. */
  answered: Record<Window, number>;
  /** Restarted process ready → its ADS stream on it seen in the process's /metrics, in ms. */
  reconnectMs: number;
  /** The file changed → the first call answered by the added server started, in ms. */
  changeToAddedMs: number;
  backends: Record<string, number>;
}

/** The xDS process phase, as the scenario reports it. */
export interface ProcessKillPhase {
  /** How the process ended, and the pids before and after. */
  exit: string;
  pids: [number, number];
  port: number;
  /** Servers in the file before the change, and after it. */
  listedBefore: number;
  listedAfter: number;
  /** SIGKILL → the restarted process's ready line, in ms; its own start (spawn → ready line), in ms. */
  downMs: number;
  restartStartMs: number;
  /** The file changed → its Envoy routing to every server, in ms. */
  changeToEnvoyRoutedMs: number;
  envoy: SideResult;
  proxyless: SideResult;
  /** Every call of both loads, for the scenario's totals. */
  results: readonly RequestResult[];
}

const started = (results: readonly RequestResult[], from: number, to: number): RequestResult[] =>
  results.filter((r) => r.startMs >= from && r.startMs < to);

const answeredBy = (results: readonly RequestResult[]): number =>
  new Set(results.flatMap((r) => (r.code === 0 && r.serverId ? [r.serverId] : []))).size;

/** Whether `side`'s calls started after mark `m` number `more` or more and were answered by every one of `want`. */
export function answeredSince(side: LoadSide, m: string, want: readonly string[], more: number): boolean {
  const since = started(
    side.load.results,
    side.marks.get(m) ?? Number.POSITIVE_INFINITY,
    Number.POSITIVE_INFINITY,
  );
  const by = new Set(since.flatMap((r) => (r.code === 0 && r.serverId ? [r.serverId] : [])));
  return since.length >= more && want.every((id) => by.has(id));
}

/** A side's result from its marks (from, killed, restarted, changed, to) and every call of its load. */
export function sideResult(
  side: LoadSide,
  results: readonly RequestResult[],
  addedId: string,
  reconnectMs: number,
): SideResult {
  const at = (m: string): number => side.marks.get(m) ?? Number.NaN;
  const phase = started(results, at("from"), at("to"));
  const failed = phase.filter((r) => r.code !== 0);
  const firstAdded = Math.min(
    ...started(results, at("changed"), Number.POSITIVE_INFINITY)
      .filter((r) => r.code === 0 && r.serverId === addedId)
      .map((r) => r.startMs),
  );
  return {
    calls: phase.length,
    failed: failed.length,
    failures: byStatus(failed),
    answered: Object.fromEntries(
      WINDOWS.map(([w, from, to]) => [w, answeredBy(started(results, at(from), at(to)))]),
    ) as Record<Window, number>,
    reconnectMs: round(reconnectMs),
    changeToAddedMs: round(firstAdded - at("changed")),
    backends: distribution(results, at("from"), at("to")),
  };
}

const answeredLine = (s: SideResult, p: ProcessKillPhase): string =>
  `servers answering before ${s.answered.before}, down ${s.answered.down}, back ${s.answered.back} of ${p.listedBefore}, after the change ${s.answered.after} of ${p.listedAfter}`;

const failedLine = (calls: string, s: SideResult): string => {
  const why = Object.entries(s.failures).map(([m, n]) => `${n}× ${m}`);
  return `${s.failed} of ${s.calls} ${calls} failed${why.length > 0 ? ` (${why.join("; ")})` : ""}`;
};

const holds = (s: SideResult, p: ProcessKillPhase): boolean =>
  s.failed === 0 &&
  s.answered.before === p.listedBefore &&
  s.answered.down === p.listedBefore &&
  s.answered.back === p.listedBefore &&
  s.answered.after === p.listedAfter;

/** The checks of the phase: no call lost on either side, both back on the new process, the change taken by both. */
export function processChecks(p: ProcessKillPhase): ScenarioCheck[] {
  const { envoy, proxyless } = p;
  return [
    check(
      "a grpc-lb xds-server killed with SIGKILL and started again on its port costs Envoy no call and no server",
      holds(envoy, p),
      `${failedLine("calls through Envoy", envoy)}; ${answeredLine(envoy, p)}; process ${p.exit} (pid ${p.pids[0]}), pid ${p.pids[1]} ready on port ${p.port} ${p.downMs} ms later`,
    ),
    check(
      "the same kill costs the proxyless client no call and no server",
      holds(proxyless, p),
      `${failedLine("proxyless calls", proxyless)}; ${answeredLine(proxyless, p)}`,
    ),
    check(
      "both reconnect to the restarted process, and a server added to its file then reaches both",
      [envoy, proxyless].every((s) => Number.isFinite(s.reconnectMs) && Number.isFinite(s.changeToAddedMs)),
      `ADS streams back ${envoy.reconnectMs} ms (Envoy) and ${proxyless.reconnectMs} ms (proxyless) after its ready line; the added server routed by Envoy ${p.changeToEnvoyRoutedMs} ms after the file changed, its first call ${envoy.changeToAddedMs} ms (Envoy) and ${proxyless.changeToAddedMs} ms (proxyless) after`,
    ),
  ];
}

/** processEnvoyFailedCalls, processProxylessServersDown, processDownMs, … */
export function processMeasurements(p: ProcessKillPhase): Record<string, number> {
  const side = (name: string, s: SideResult): [string, number][] => [
    [`process${name}Calls`, s.calls],
    [`process${name}FailedCalls`, s.failed],
    ...Object.entries(s.answered).map(([w, n]): [string, number] => [
      `process${name}Servers${w[0]?.toUpperCase()}${w.slice(1)}`,
      n,
    ]),
    [`process${name}ReconnectMs`, s.reconnectMs],
    [`process${name}ChangeToAddedMs`, s.changeToAddedMs],
  ];
  return Object.fromEntries([
    ["processDownMs", p.downMs],
    ["processRestartStartMs", p.restartStartMs],
    ["processListedBefore", p.listedBefore],
    ["processListedAfter", p.listedAfter],
    ["processChangeToEnvoyRoutedMs", p.changeToEnvoyRoutedMs],
    ...side("Envoy", p.envoy),
    ...side("Proxyless", p.proxyless),
  ]);
}
