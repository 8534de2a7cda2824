import { LISTENER_NAME } from "../../envoy/bootstrap.js";
import { SCHEDULING_SLACK_MS } from "../../envoy/budgets.js";
import { LabError } from "../../errors.js";
import { type PacedLoad, type RequestResult, startPacedLoad } from "../../loadgen/paced-load.js";
import type { LoadReport } from "../../loadgen/report.js";
import { check, round, withinBudget } from "../../scenarios/report.js";
import { FRONT_READINESS } from "../envoy-tier.js";
import type { LabScenario } from "./lab-scenario.js";

/** The clients' HTTP/2 keepalive: a PING every second, the connection given up after a second unanswered. */
const KEEPALIVE_MS = 1000;
/** Attempts of the retry policy for UNAVAILABLE. */
const RETRY_ATTEMPTS = 3;
/** The deadline of every call, in ms. */
const DEADLINE_MS = 5000;
/** How long Envoy 2 stays frozen: past the calls' deadline, so a hang shows as a failure. */
const FREEZE_MS = DEADLINE_MS + 1000;

/** The three clients, side by side: what each has of keepalive and retry. */
const CLIENTS = {
  plain: { keepaliveMs: 0, retryUnavailableAttempts: 0 },
  keepalive: { keepaliveMs: KEEPALIVE_MS, retryUnavailableAttempts: 0 },
  "keepalive+retry": { keepaliveMs: KEEPALIVE_MS, retryUnavailableAttempts: RETRY_ATTEMPTS },
} as const;
type ClientName = keyof typeof CLIENTS;

const failedIn = (rs: readonly RequestResult[]): RequestResult[] => rs.filter((r) => r.code !== 0);

/**
 * An Envoy that freezes (SIGSTOP; a hung process or a network cut looks the same to a
 * client): no drain tells anyone, its connections stay open, and the calls on them wait.
 * The front stops giving it new connections (its /ready times out), but a client that
 * already has one finds out only by HTTP/2 keepalive. Three clients, each with one
 * connection on either Envoy, show the difference: none, keepalive, keepalive with a
 * retry policy for UNAVAILABLE. Failed calls are measured, not forbidden.
 */
export const envoyFreeze: LabScenario = {
  name: "envoy-freeze",
  summary:
    "SIGSTOP one of 2 Envoys for 6 s under three clients: no keepalive, 1 s keepalive, keepalive + a retry policy for UNAVAILABLE",
  labOptions: { servers: 3, envoys: 2 },
  load: "none",
  allowFailedCalls: true,
  async run({ env: lab, waitFor, signal }) {
    const tier = lab.tier;
    if (tier === undefined || tier.envoys.length !== 2)
      throw new LabError("envoy-freeze needs 2 Envoys (envoys: 2)");
    const frozen = tier.envoys[1];
    if (frozen === undefined) throw new LabError("envoy-freeze found no second Envoy");
    const t0 = performance.now();
    const now = (): number => performance.now() - t0;
    const loads = new Map<ClientName, { load: PacedLoad; offsetMs: number }>();
    let thawed = true;
    try {
      // One after another, each once its 2 connections are up: the front alternates new
      // connections over the Envoys, so every client has one on each.
      for (const [name, o] of Object.entries(CLIENTS) as [ClientName, (typeof CLIENTS)[ClientName]][]) {
        const offsetMs = now();
        const load = startPacedLoad({
          target: lab.listenAddress,
          tls: lab.clientTls,
          ratePerSec: 60,
          concurrency: 4,
          connections: 2,
          maxRequests: 3000,
          maxDurationMs: 40_000,
          deadlineMs: DEADLINE_MS,
          signal,
          ...o,
        });
        loads.set(name, { load, offsetMs });
        await load.waitForResults(20, 10_000, signal);
      }
      const served = await Promise.all(
        tier.envoys.map((e) => e.admin.stat(`http.${LISTENER_NAME}.downstream_rq_total`)),
      );
      const frozenAt = now();
      process.kill(frozen.process.pid, "SIGSTOP");
      thawed = false;
      await waitFor(
        `${FREEZE_MS} ms of the freeze`,
        () => (now() - frozenAt >= FREEZE_MS ? true : undefined),
        FREEZE_MS + 5000,
      );
      process.kill(frozen.process.pid, "SIGCONT");
      thawed = true;
      const thawedAt = now();
      // Calls held by the frozen Envoy end once it thaws; a second more of calls after that.
      await waitFor(
        "a second of calls after the thaw",
        () => (now() - thawedAt >= 1000 ? true : undefined),
        5000,
      );
      const reports = new Map<ClientName, { results: RequestResult[]; report: LoadReport }>();
      for (const [name, { load, offsetMs }] of loads) {
        const results = (await load.stop()).map((r) => ({
          ...r,
          startMs: r.startMs + offsetMs,
          endMs: r.endMs + offsetMs,
        }));
        reports.set(name, { results, report: load.report() });
      }
      const of = (name: ClientName) => reports.get(name) ?? { results: [], report: undefined };
      const slowest = (name: ClientName) =>
        round(Math.max(0, ...of(name).results.map((r) => r.endMs - r.startMs)));
      const held = (name: ClientName) =>
        of(name).results.filter((r) => r.endMs - r.startMs >= KEEPALIVE_MS && r.startMs >= frozenAt - 100)
          .length;
      const lastFailure = (name: ClientName) =>
        round(Math.max(0, ...failedIn(of(name).results).map((r) => r.endMs - frozenAt)));
      // Keepalive gives a connection up after one interval and one timeout, at worst.
      const detectionBudgetMs = 2 * KEEPALIVE_MS + SCHEDULING_SLACK_MS;
      const keepaliveFailures = failedIn(of("keepalive").results);
      const totals = [...reports.values()].map((r) => r.report.requests);
      const merged = {
        total: totals.reduce((a, t) => a + t.total, 0),
        ok: totals.reduce((a, t) => a + t.ok, 0),
        failed: totals.reduce((a, t) => a + t.failed, 0),
        errors: Object.fromEntries(
          [...reports].flatMap(([name, r]) =>
            Object.entries(r.report.errors).map(([code, n]) => [`${name}: ${code}`, n]),
          ),
        ),
      };
      return {
        requests: merged,
        checks: [
          check(
            "both Envoys carried calls before the freeze",
            served.every((n) => (n ?? 0) > 0),
            `${served.join("/")} requests`,
          ),
          check(
            "without keepalive, calls on the frozen Envoy's connection hang until it thaws or their deadline",
            held("plain") > 0,
            `${held("plain")} calls took over ${KEEPALIVE_MS} ms, the slowest ${slowest("plain")} ms; ${of("plain").report?.requests.failed ?? 0} failed`,
          ),
          withinBudget(
            "with keepalive, the frozen Envoy's connection is given up in time",
            lastFailure("keepalive"),
            detectionBudgetMs,
          ),
          check(
            "with keepalive, only the calls in flight on it fail, as UNAVAILABLE",
            keepaliveFailures.length > 0 && keepaliveFailures.every((r) => r.code === 14),
            `${keepaliveFailures.length} failed: ${JSON.stringify(of("keepalive").report?.errors ?? {})}`,
          ),
          check(
            "with keepalive and a retry policy for UNAVAILABLE, no call fails",
            (of("keepalive+retry").report?.requests.failed ?? 1) === 0 && held("keepalive+retry") > 0,
            `${of("keepalive+retry").report?.requests.failed ?? "?"} of ${of("keepalive+retry").report?.requests.total ?? "?"} failed; ${held("keepalive+retry")} held, then retried`,
          ),
        ],
        measurements: {
          freezeMs: round(thawedAt - frozenAt),
          keepaliveMs: KEEPALIVE_MS,
          detectionBudgetMs,
          // A client whose every slot hangs on the frozen connection sends nothing else meanwhile.
          plainCalls: of("plain").report?.requests.total ?? 0,
          plainFailed: of("plain").report?.requests.failed ?? 0,
          plainSlowestMs: slowest("plain"),
          keepaliveCalls: of("keepalive").report?.requests.total ?? 0,
          keepaliveFailed: keepaliveFailures.length,
          keepaliveLastFailureAfterFreezeMs: lastFailure("keepalive"),
          retryCalls: of("keepalive+retry").report?.requests.total ?? 0,
          retryFailed: of("keepalive+retry").report?.requests.failed ?? 0,
          retryHeldThenRetried: held("keepalive+retry"),
          retrySlowestMs: slowest("keepalive+retry"),
          frontReadinessTimeoutMs: FRONT_READINESS.timeoutMs,
        },
        distributions: [...reports].map(([name, r]) => ({ phase: name, backends: r.report.backends })),
      };
    } finally {
      if (!thawed) process.kill(frozen.process.pid, "SIGCONT");
      await Promise.all([...loads.values()].map(({ load }) => load.stop().catch(() => [])));
    }
  },
};
