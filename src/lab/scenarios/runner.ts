import type { UpstreamHost } from "../../envoy/admin.js";
import { CLUSTER_NAME } from "../../envoy/bootstrap.js";
import { errorFrom, LabError } from "../../errors.js";
import { type PacedLoad, startPacedLoad } from "../../loadgen/paced-load.js";
import { waitFor } from "../../util/wait.js";
import { check, noFailedCalls, type ScenarioReport, totalsOf } from "./report.js";
import type { Scenario, ScenarioContext, ScenarioLoad, ScenarioTarget } from "./scenario.js";

/** Calls every paced scenario waits for before it acts, so each phase has traffic before it. */
export const WARM_UP_CALLS = 200;
/** How long a wait inside a scenario may take by default, in ms. */
const WAIT_MS = 20_000;

/**
 * Runs a scenario against a target: owns the paced load and its clock, makes
 * every wait end on the signal, adds the checks every scenario makes (no
 * failed call, no retry refused by the budget), and wraps what goes wrong as
 * "scenario NAME: what was being waited for". It needs only a target, so a
 * scenario on Compose or Kubernetes runs on it as one in the lab does.
 */
export async function runScenarioOn<Env>(
  scenario: Scenario<Env>,
  env: Env,
  target: ScenarioTarget,
  signal: AbortSignal = new AbortController().signal,
): Promise<ScenarioReport> {
  const t0 = performance.now();
  const paced = scenario.load === "paced" ? startScenarioLoad(target, signal) : undefined;
  const wait: ScenarioContext<Env>["waitFor"] = (what, fn, timeoutMs = WAIT_MS, describeLast) =>
    waitFor(
      what,
      () => {
        target.ensureUp?.();
        return fn();
      },
      { timeoutMs, intervalMs: 10, signal },
      describeLast,
    );
  const load = scenarioLoad(scenario.name, paced, wait);
  const stat = async (name: string): Promise<number> =>
    (await target.admin.stat(`cluster.${CLUSTER_NAME}.${name}`).catch(() => undefined)) ?? 0;
  const ctx: ScenarioContext<Env> = {
    env,
    signal,
    load,
    waitFor: wait,
    async waitForHosts(what, done, timeoutMs = WAIT_MS) {
      const t = performance.now();
      let last: UpstreamHost[] = [];
      await ctx.waitFor(
        what,
        async () => {
          const hosts = await target.admin.clusterHosts(CLUSTER_NAME).catch(() => undefined);
          if (hosts !== undefined) last = hosts;
          return hosts !== undefined && done(hosts) ? true : undefined;
        },
        timeoutMs,
        () => `${last.filter((h) => h.healthy).length} healthy of ${last.length} hosts`,
      );
      return performance.now() - t;
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
    const retries = await stat("upstream_rq_retry");
    const overflows = await stat("upstream_rq_retry_overflow");
    const checks = [
      ...(totals ? [noFailedCalls(totals)] : []),
      ...outcome.checks,
      check("no retry refused by the budget", overflows === 0, `${overflows} refused`),
    ];
    return {
      scenario: scenario.name,
      verdict: checks.every((c) => c.ok) ? "pass" : "fail",
      checks,
      requests: outcome.requests ?? (totals ? totalsOf(totals) : { total: 0, ok: 0, failed: 0, errors: {} }),
      measurements: outcome.measurements,
      distributions: outcome.distributions,
      envoyRetries: retries,
      envoyRetryOverflows: overflows,
      durationMs: Math.round(performance.now() - t0),
    };
  } catch (e) {
    if (signal.aborted) throw e;
    throw errorFrom(LabError, e, `scenario ${scenario.name}`);
  } finally {
    await paced?.stop();
  }
}

/** The steady load: 200 calls/s over one channel, at most 8 in flight, bounded to 60 s and 12 000 calls. */
function startScenarioLoad(target: ScenarioTarget, signal: AbortSignal): PacedLoad {
  return startPacedLoad({
    signal,
    target: target.listenAddress,
    ratePerSec: 200,
    concurrency: 8,
    maxRequests: 12_000,
    maxDurationMs: 60_000,
    deadlineMs: 5000,
  });
}

function scenarioLoad(
  name: string,
  paced: PacedLoad | undefined,
  wait: ScenarioContext<unknown>["waitFor"],
): ScenarioLoad {
  const need = (): PacedLoad => {
    if (paced === undefined) throw new LabError(`scenario ${name} has no paced load`);
    return paced;
  };
  return {
    now: () => need().now(),
    get results() {
      return need().results;
    },
    async waitForMore(more, timeoutMs = WAIT_MS) {
      const p = need();
      const n = p.results.length + more;
      await wait(
        `${more} more calls through Envoy (${n} in all)`,
        () => (p.results.length >= n ? true : undefined),
        timeoutMs,
        () => `${p.results.length} finished`,
      );
    },
    finish: () => need().stop(),
  };
}
