import { LISTENER_NAME } from "../../envoy/bootstrap.js";
import { SCHEDULING_SLACK_MS } from "../../envoy/budgets.js";
import type { EnvoyHandle } from "../../envoy/process.js";
import { LabError } from "../../errors.js";
import { check, round, withinBudget } from "../../scenarios/report.js";
import { sharesPct, startShareSampler } from "../../scenarios/shares.js";
import { FRONT_READINESS } from "../envoy-tier.js";
import { waitForHosts } from "../lab-envoy.js";
import type { LabScenario } from "./lab-scenario.js";
import { tierTotals } from "./tier-totals.js";

/** Envoy tells a client connection to go once it is this old, so clients spread again (ms). */
const CONNECTION_AGE_MS = 2000;
/** A connection told to go keeps serving its calls this long before Envoy closes it (ms). */
const DRAIN_MS = 1000;
/** Channels of the load: each its own connection through the front. */
const CONNECTIONS = 4;
/** How often each Envoy's request counter is read, in ms. */
const SAMPLE_MS = 100;
/** The window over which the Envoys' shares are judged, in ms. */
const SHARE_WINDOW_MS = 1000;

/**
 * The Envoy tier loses a replica and gets it back, as a rolling restart does: Envoy 2's
 * readiness fails (POST /healthcheck/fail, what a preStop hook does), so the front stops
 * giving it connections and its own connections get a GOAWAY and move to Envoy 1; it then
 * restarts. Connections have a maximum age, so clients come back to it. No call may fail.
 */
export const envoyRestart: LabScenario = {
  name: "envoy-restart",
  summary:
    "2 Envoys behind a connection balancer: drain one (readiness fails, GOAWAY), restart it, clients spread again; no call may fail",
  labOptions: {
    servers: 3,
    envoys: 2,
    envoy: { maxConnectionDurationMs: CONNECTION_AGE_MS, drainTimeoutMs: DRAIN_MS },
  },
  load: "paced",
  loadConnections: CONNECTIONS,
  async run({ env: lab, load, waitFor, signal }) {
    const tier = lab.tier;
    if (tier === undefined || tier.envoys.length < 2)
      throw new LabError("envoy-restart needs at least 2 Envoys (envoys: 2)");
    // The last Envoy restarts: the first stays the scenario's view of Envoy (its retry counters).
    const victim = tier.envoys.length - 1;
    const name = `Envoy ${victim + 1}`;
    const keys = tier.envoys.map((_, i) => `envoy-${i + 1}`);
    const counts = startShareSampler(tierTotals(tier), load.now, SAMPLE_MS, signal);
    // About even: each Envoy at least half its fair share.
    const balanced = () => counts.balanced(keys, SHARE_WINDOW_MS, 1 / 2);
    try {
      const { intervalMs, timeoutMs } = FRONT_READINESS;
      const readinessBudgetMs = intervalMs + timeoutMs + SCHEDULING_SLACK_MS;
      // Clients spread once their connections reach their age: the age, the drain of the old
      // connection, a readiness check of the front.
      const rebalanceBudgetMs = CONNECTION_AGE_MS + DRAIN_MS + readinessBudgetMs + SHARE_WINDOW_MS;

      await waitFor("every Envoy to carry its share of the calls", balanced, rebalanceBudgetMs * 2);
      const failAt = load.now();
      const old = tier.envoys[victim] as EnvoyHandle;
      await old.admin.failHealthcheck();
      await waitFor(
        `the front to stop giving ${name} connections`,
        async () => ((await tier.frontRoutesTo(victim)) ? undefined : true),
        readinessBudgetMs * 4,
      );
      const outAt = load.now();
      const drainBudgetMs = DRAIN_MS + readinessBudgetMs + SCHEDULING_SLACK_MS;
      await waitFor(
        `${name}'s client connections to close after its GOAWAY`,
        async () =>
          (await old.admin.stat(`http.${LISTENER_NAME}.downstream_cx_active`)) === 0 ? true : undefined,
        drainBudgetMs * 4,
      );
      const drainedAt = load.now();
      const goaways = (await old.admin.stat(`http.${LISTENER_NAME}.downstream_cx_drain_close`)) ?? 0;
      // Out of rotation for a while, as a pod waiting out its preStop: 200 calls go elsewhere.
      const servedWhenDrained = await old.admin.stat(`http.${LISTENER_NAME}.downstream_rq_total`);
      await load.waitForMore(200);
      const servedAtStop = await old.admin.stat(`http.${LISTENER_NAME}.downstream_rq_total`);

      const stopAt = load.now();
      const next = await tier.restart(victim, signal);
      await waitForHosts(
        next,
        `the restarted ${name} to route to every server`,
        (hs) => hs.length === lab.servers().length && hs.every((h) => h.healthy),
        lab.options.startTimeoutMs,
        signal,
        "address",
        lab.clientTls,
      );
      await waitFor(
        `the front to see the restarted ${name} ready`,
        async () => ((await tier.frontRoutesTo(victim)) ? true : undefined),
        readinessBudgetMs * 4,
      );
      const readyAt = load.now();
      const spread = await waitFor(
        "clients to spread over every Envoy again",
        balanced,
        rebalanceBudgetMs * 4,
      );
      const balancedAt = load.now();
      await load.waitForMore(200);
      await load.finish();
      await counts.stop();

      const before = counts.between(0, failAt);
      const whileOut = counts.between(drainedAt, stopAt);
      const after = counts.between(balancedAt - SHARE_WINDOW_MS, load.now());
      return {
        checks: [
          withinBudget(
            `the front stops giving ${name} connections once its /ready fails`,
            outAt - failAt,
            readinessBudgetMs,
          ),
          withinBudget(`${name}'s clients leave it (GOAWAY) in time`, drainedAt - outAt, drainBudgetMs),
          check(
            `only the other Envoys carry calls while ${name} is out`,
            servedAtStop === servedWhenDrained && [...whileOut.values()].some((c) => c > 0),
            `${[...whileOut.values()].join("/")} calls; ${name} took ${(servedAtStop ?? 0) - (servedWhenDrained ?? 0)} after its clients left`,
          ),
          withinBudget(
            "clients spread over every Envoy again in time",
            balancedAt - readyAt,
            rebalanceBudgetMs,
          ),
        ],
        measurements: {
          failToOutOfFrontMs: round(outAt - failAt),
          outToDrainedMs: round(drainedAt - outAt),
          connectionsToldToGo: goaways,
          restartToReadyMs: round(readyAt - stopAt),
          readyToBalancedMs: round(balancedAt - readyAt),
          rebalanceBudgetMs,
          envoySharesBeforePct: sharesPct(before),
          envoySharesWhileOutPct: sharesPct(whileOut),
          envoySharesAfterPct: sharesPct([...after.values()].some((c) => c > 0) ? after : spread),
          connectionAgeMs: CONNECTION_AGE_MS,
        },
        distributions: [],
      };
    } finally {
      await counts.stop();
    }
  },
};
