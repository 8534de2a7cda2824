import type { EnvoyAdmin } from "../envoy/admin.js";
import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import { errorFrom, type GrpcLbError, LabError } from "../errors.js";
import { pollEnvoyHosts } from "../routing/wait-hosts.js";
import { waitFor } from "../util/wait.js";
import { check, noFailedCalls, repliesCut, type ScenarioReport, totalsOf } from "./report.js";
import type { RetryCounters, Scenario, ScenarioContext, ScenarioTarget } from "./scenario.js";
import {
  CALL_DEADLINE_MS,
  LAB_LOAD,
  type LoadBounds,
  SCENARIO_CONCURRENCY,
  scenarioLoad,
  startScenarioLoad,
  WAIT_MS,
} from "./scenario-load.js";

/** Calls every paced scenario waits for before it acts, so each phase has traffic before it. */
export const WARM_UP_CALLS = 200;

/** How the runner runs a scenario beyond its target and signal. */
export interface RunScenarioOptions {
  /** Bounds of the paced load; default LAB_LOAD. */
  bounds?: LoadBounds;
  /** The error class a failure is wrapped in (its area prefixes the message); default LabError. */
  errors?: new (
    message: string,
    options?: ErrorOptions,
  ) => GrpcLbError;
}

/**
 * Runs a scenario against a target: owns the paced load (200 calls/s, within
 * `bounds`) and its clock, makes every wait end on the signal, adds the checks
 * every scenario makes (no failed call, no retry refused by the budget), counts
 * Envoy's retries over the run only, and wraps what goes wrong as "scenario
 * NAME: what was being waited for". It needs only a target, so a scenario on
 * Compose or Kubernetes runs on it as one in the lab does.
 */
export async function runScenarioOn<Env>(
  scenario: Scenario<Env>,
  env: Env,
  target: ScenarioTarget,
  signal: AbortSignal = new AbortController().signal,
  o: RunScenarioOptions = {},
): Promise<ScenarioReport> {
  const { bounds = LAB_LOAD, errors = LabError } = o;
  const t0 = performance.now();
  const ensureUp = (): void => target.ensureUp?.();
  const wait: ScenarioContext<Env>["waitFor"] = (what, fn, timeoutMs = WAIT_MS, describeLast) =>
    waitFor(
      what,
      () => {
        ensureUp();
        return fn();
      },
      { timeoutMs, intervalMs: 10, signal },
      describeLast,
    );
  const stat = (name: string): Promise<number> => clusterStat(target.admin, name);
  const counters = (): Promise<RetryCounters> => retryCounters(target.admin);
  // A long-lived Envoy (Compose, Kubernetes) has counted earlier runs too: report the difference.
  const before = await counters();
  const deadlineMs = scenario.callDeadlineMs?.(env) ?? CALL_DEADLINE_MS;
  const paced =
    scenario.load === "paced"
      ? startScenarioLoad(target, bounds, signal, deadlineMs, scenario.loadConnections)
      : undefined;
  const load = scenarioLoad(scenario.name, paced, bounds, wait, deadlineMs);
  const ctx: ScenarioContext<Env> = {
    env,
    signal,
    load,
    waitFor: wait,
    async waitForHosts(what, done, timeoutMs = WAIT_MS) {
      const { ms } = await pollEnvoyHosts(
        () => target.admin,
        what,
        (hosts) => (done(hosts) ? true : undefined),
        { timeoutMs, signal, ensureUp, listener: target.listenAddress, tls: target.tls },
      );
      return ms;
    },
    hosts: () => target.admin.clusterHosts(CLUSTER_NAME),
    stat,
  };
  try {
    if (paced) await load.waitForMore(WARM_UP_CALLS, 10_000);
    const outcome = await scenario.run(ctx);
    // A load cut short by Ctrl-C returns early; its numbers are no verdict.
    signal.throwIfAborted();
    if (paced) await load.finish();
    // The engine's own totals of the paced load: nothing here counts calls again.
    const totals = paced?.report();
    const after = await counters();
    const earlier = target.replacedEnvoys ?? { retries: 0, overflows: 0 };
    // A counter that went back belongs to a new Envoy (a hot restart's new epoch does not
    // always carry its parent's counts over): what it counted is all since then.
    const since = (a: number, b: number): number => (a >= b ? a - b : a);
    const retries = since(after.retries, before.retries) + earlier.retries;
    const overflows = since(after.overflows, before.overflows) + earlier.overflows;
    const cut = outcome.cutReplies;
    const cutCount = cut && paced ? repliesCut(paced.results, cut) : 0;
    const checks = [
      ...(totals && !scenario.allowFailedCalls
        ? [noFailedCalls(totals, cut && { count: cutCount, by: cut.by, budget: SCENARIO_CONCURRENCY })]
        : []),
      ...outcome.checks,
      check("no retry refused by the budget", overflows === 0, `${overflows} refused`),
    ];
    return {
      scenario: scenario.name,
      verdict: checks.every((c) => c.ok) ? "pass" : "fail",
      checks,
      requests: outcome.requests ?? (totals ? totalsOf(totals) : { total: 0, ok: 0, failed: 0, errors: {} }),
      measurements: cut ? { ...outcome.measurements, repliesCutMidway: cutCount } : outcome.measurements,
      distributions: outcome.distributions,
      envoyRetries: retries,
      envoyRetryOverflows: overflows,
      durationMs: Math.round(performance.now() - t0),
    };
  } catch (e) {
    if (signal.aborted) throw e;
    throw errorFrom(errors, e, `scenario ${scenario.name}`);
  } finally {
    await paced?.stop();
  }
}

/** A counter of cluster 'server' ("upstream_rq_retry"); 0 when absent or unreadable. */
const clusterStat = async (admin: EnvoyAdmin, name: string): Promise<number> =>
  (await admin.stat(`cluster.${CLUSTER_NAME}.${name}`).catch(() => undefined)) ?? 0;

/** Envoy's retry counters for cluster 'server' now (cumulative over Envoy's life). */
export async function retryCounters(admin: EnvoyAdmin): Promise<RetryCounters> {
  return {
    retries: await clusterStat(admin, "upstream_rq_retry"),
    overflows: await clusterStat(admin, "upstream_rq_retry_overflow"),
  };
}
