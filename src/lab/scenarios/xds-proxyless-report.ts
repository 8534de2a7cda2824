import type { RequestResult } from "../../loadgen/paced-load.js";
import { check, type ScenarioCheck } from "../../scenarios/report.js";

/** What one crash and restart of the xDS server did to a proxyless client (grpc-js-xds) and its calls. */
export interface ProxylessPhase {
  /** Its calls started in the phase, and those that failed. */
  calls: number;
  failed: number;
  /** Failed calls by their status message. */
  failures: Record<string, number>;
  /**
   * Servers that answered its calls: in the last second before the crash, while the xDS server
   * was down, while the restarted one was still listing its source, and once it had its list.
   */
  answered: { before: number; down: number; relisting: number; after: number };
  /** Servers in the lab. */
  servers: number;
  /** Restarted server listening → the client's ADS stream open on it, in ms. */
  restartToReconnectMs: number;
  /** The source's full list → the client's ACK of the assignment that lists it, in ms. */
  listedToAckMs: number;
  /** Its calls that failed in each window (same windows as `answered`). */
  failedIn: { before: number; down: number; relisting: number; after: number };
  /**
   * While it held an assignment with no endpoint (only without the gate: from its ACK of the
   * restarted server's empty one to its ACK of the full one): how long, its calls, and failures.
   */
  empty: { ms: number; calls: number; failed: number };
  backends: Record<string, number>;
}

/** The proxyless client's side of the two crash phases. */
export interface ProxylessPhases {
  gated: ProxylessPhase;
  ungated: ProxylessPhase;
}

const WINDOWS = ["before", "down", "relisting", "after"] as const;

/** "before 3, down 3, relisting 3, after 3 of 3 servers answered" */
const answeredLine = (p: ProxylessPhase): string =>
  `servers answering ${WINDOWS.map((w) => `${w} ${p.answered[w]}`).join(", ")} of ${p.servers}`;

const failedLine = (p: ProxylessPhase): string => {
  const why = Object.entries(p.failures).map(([s, n]) => `${n}× ${s}`);
  return `${p.failed} of ${p.calls} proxyless calls failed${why.length > 0 ? ` (${why.join("; ")})` : ""}`;
};

const reconnectLine = (p: ProxylessPhase): string =>
  `its ADS stream back ${p.restartToReconnectMs} ms after the restart, the full assignment ACKed ${p.listedToAckMs} ms after the list`;

/**
 * With the gate, the proxyless client loses no call and keeps every server in every window.
 * Without it, what the empty assignment does is reported (the gate is there to prevent it);
 * the check is that the client comes back to every server once the list is served.
 */
export function proxylessChecks(p: ProxylessPhases): ScenarioCheck[] {
  const { gated, ungated } = p;
  return [
    check(
      "with the sync gate, proxyless clients lose no call and keep every server while the xDS server is down and after it is back",
      gated.failed === 0 && WINDOWS.every((w) => gated.answered[w] === gated.servers),
      `${failedLine(gated)}; ${answeredLine(gated)}; ${reconnectLine(gated)}`,
    ),
    check(
      "without the gate, the restarted server's empty assignment fails proxyless calls until it has its list (what the gate prevents); then they reach every server again",
      ungated.empty.failed > 0 && ungated.answered.after === ungated.servers,
      `${failedLine(ungated)}; ${ungated.empty.failed} of the ${ungated.empty.calls} started in the ${ungated.empty.ms} ms it held no endpoint; ${answeredLine(ungated)}; ${reconnectLine(ungated)}`,
    ),
  ];
}

/** proxylessGatedCalls, proxylessUngatedFailedCalls, proxylessGatedServersDown, … */
export function proxylessMeasurements(p: ProxylessPhases): Record<string, number> {
  return Object.fromEntries(
    Object.entries(p).flatMap(([gate, x]) => {
      const name = `proxyless${gate === "gated" ? "Gated" : "Ungated"}`;
      return [
        [`${name}Calls`, x.calls],
        [`${name}FailedCalls`, x.failed],
        ...WINDOWS.map((w) => [`${name}Servers${w[0]?.toUpperCase()}${w.slice(1)}`, x.answered[w]]),
        ...WINDOWS.map((w) => [`${name}Failed${w[0]?.toUpperCase()}${w.slice(1)}`, x.failedIn[w]]),
        [`${name}EmptyMs`, x.empty.ms],
        [`${name}FailedWhileEmpty`, x.empty.failed],
        [`${name}RestartToReconnectMs`, x.restartToReconnectMs],
        [`${name}ListedToAckMs`, x.listedToAckMs],
      ];
    }),
  );
}

/** Failed calls by "CODE message", as the phase reports them. */
export function byStatus(failed: readonly RequestResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of failed) {
    const why = `${r.code} ${r.details ?? ""}`.trim();
    out[why] = (out[why] ?? 0) + 1;
  }
  return out;
}
