import { messageOf } from "../../../errors.js";
import { slackMs } from "../../../lab/scenarios/streams-strategies.js";
import { check, round, type ScenarioCheck } from "../../../scenarios/report.js";
import { span } from "../../../scenarios/results.js";
import type { ScenarioOutcome } from "../../../scenarios/scenario.js";
import { countsBetween } from "../../../scenarios/stream-phases.js";
import { kubectl } from "../kubectl.js";
import { allWithin } from "../report.js";
import { type K8sEnv, type K8sScenario, rolloutStatus } from "../scenario.js";
import { k8sBudgets } from "../timing.js";
import { BASE_REPLICAS } from "./scale.js";
import { serverDeploymentOf, serverPatch, strategyRestore } from "./server-patch.js";
import { runStreamsPhases, SCALED_REPLICAS, type StreamsRun } from "./streams-phases.js";
import {
  describeBudget,
  K8S_STREAMS_STRATEGY,
  K8S_STREAMS_TIMINGS,
  LIFETIME_FLAG,
  streamAgeMs,
  streamsGoneAt,
  streamsTimeline,
  withStreamLifetime,
} from "./streams-plan.js";
import { noFailedStreams, streamCalls } from "./streams-verdict.js";

/** One row of streams per server this often, per phase, in the report's distributions. */
const TIMELINE_STEP_MS = 2000;

const T = K8S_STREAMS_TIMINGS;

/**
 * Long-lived Subscribe streams through Envoy while deployment/server scales 3 → 6 and then
 * rolls out, with the servers ending each stream after a lifetime (the recommended strategy,
 * set by a patch of the Deployment's args, undone at the end with the scale back to 3).
 */
export const streams: K8sScenario = {
  name: "streams",
  summary: `${T.streams} long-lived streams through Envoy, servers 3 → ${SCALED_REPLICAS}, then a rollout; each server ends a stream after ${T.rebalanceMs} ms (${LIFETIME_FLAG}) and its client resumes it`,
  ownLoad: true,
  async run(ctx, start) {
    const { env, signal } = ctx;
    const patch = (type: "strategic" | "json", body: string, withSignal: boolean) =>
      kubectl(
        env.kube,
        ["patch", "deployment/server", "--type", type, "-p", body],
        withSignal ? { signal } : {},
      );
    const original = serverDeploymentOf(
      await kubectl(env.kube, ["get", "deployment/server", "-o", "json"], { signal }),
    );
    try {
      const setupFrom = performance.now();
      env.progress(
        `kubectl patch deployment/server: ${LIFETIME_FLAG} ${T.rebalanceMs} (strategy ${K8S_STREAMS_STRATEGY}), every pod at once`,
      );
      const args = withStreamLifetime(original.args, T.rebalanceMs);
      await patch("strategic", serverPatch(args, original, { allAtOnce: true }), true);
      await rolloutStatus(ctx, "server");
      await patch("json", strategyRestore(original), true);
      const three = await env.envoyMatchesPods("Envoy to route to exactly the patched server pods");
      const setupMs = performance.now() - setupFrom;
      env.progress(`${T.streams} streams through Envoy to ${three.length} pods`);
      return outcome(env, await runStreamsPhases(ctx, three, start.now), setupMs);
    } finally {
      // Also after a failure or Ctrl-C: without the signal, and a failure here must not hide the scenario's.
      env.progress(`kubectl patch deployment/server: back to ${BASE_REPLICAS} pods and the args it had`);
      const restore = serverPatch(original.args, original, { replicas: BASE_REPLICAS, allAtOnce: true });
      await patch("strategic", restore, false)
        .then(() => (signal.aborted ? undefined : rolloutStatus(ctx, "server")))
        .catch((e: unknown) => env.progress(`could not restore deployment/server: ${messageOf(e)}`));
      await patch("json", strategyRestore(original), false).catch((e: unknown) =>
        env.progress(`could not restore the rollout strategy of deployment/server: ${messageOf(e)}`),
      );
    }
  },
};

const ms = (v: number | undefined): string => (v === undefined ? "not within the budget" : `${v} ms`);

/** The checks, per-phase measurements and streams-per-server timelines of a run. */
function outcome(env: K8sEnv, run: StreamsRun, setupMs: number): ScenarioOutcome {
  const checks: ScenarioCheck[] = [noFailedStreams(run.report)];
  const measurements: ScenarioOutcome["measurements"] = {
    streams: T.streams,
    streamLifetimeMs: T.rebalanceMs,
    setupMs: round(setupMs),
  };
  const distributions: ScenarioOutcome["distributions"] = [];
  run.phases.forEach((p, i) => {
    const next = run.phases[i + 1];
    checks.push(
      check(
        `${p.label}: every serving pod carries its fair share of the streams in time`,
        p.fairShareMs !== undefined,
        `${ms(p.fairShareMs)} (${describeBudget(p.budget)})`,
      ),
    );
    const counts = countsBetween(run.phases[i - 1]?.report, next === undefined ? run.report : p.report);
    Object.assign(measurements, {
      [`${p.key}.podsReadyMs`]: p.budget.podsReadyMs,
      [`${p.key}.fairShareMs`]: p.fairShareMs ?? -1,
      [`${p.key}.budgetMs`]: p.budget.totalMs,
      [`${p.key}.streamsEnded`]: counts.ended,
      [`${p.key}.streamsEndedNotOk`]: counts.endedNotOk,
      [`${p.key}.resumes`]: counts.resumes,
      [`${p.key}.lost`]: counts.lost,
      [`${p.key}.duplicated`]: counts.duplicated,
    });
    const w = { fromMs: p.fromMs, toMs: p.toMs, stepMs: TIMELINE_STEP_MS };
    distributions.push(...streamsTimeline(run.samples, `streams, ${p.label}`, w, p.columns, p.shares));
  });
  // Each replaced pod: from its termination to its last stream gone (resumed elsewhere).
  const goneMs = run.replaced.map((p) => {
    const id = env.ids.get(p.name);
    const at = env.pods.deletingAt(p.name);
    const gone =
      id === undefined || at === undefined
        ? undefined
        : streamsGoneAt(run.samples, id, at - run.watchOffsetMs);
    return span(at, gone === undefined ? undefined : gone + run.watchOffsetMs);
  });
  const goneBudget = k8sBudgets(env.discovery).removalMs + streamAgeMs(T) + slackMs(T);
  checks.push(
    allWithin("rollout: every replaced pod's streams resume elsewhere in time", goneMs, goneBudget),
  );
  measurements["rollout.terminatingToStreamsGoneMs"] = goneMs;
  measurements.subscribeCalls = streamCalls(run.report).total;
  measurements.delivered = run.report.delivered;
  return { checks, measurements, distributions, requests: streamCalls(run.report) };
}
