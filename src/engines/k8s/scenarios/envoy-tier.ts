import { kubernetesPreset } from "../../../deploy/presets.js";
import { ENVOY_DRAIN_TIMEOUT_MS } from "../../../envoy/options.js";
import { EngineError } from "../../../errors.js";
import { check, noFailedCalls, round, withinBudget } from "../../../scenarios/report.js";
import type { ScenarioContext } from "../../../scenarios/scenario.js";
import { sharesPct, startShareSampler } from "../../../scenarios/shares.js";
import { waitFor } from "../../../util/wait.js";
import { envoyRequestCounts, servingEnvoys, startInClusterLoad } from "../in-cluster-load.js";
import { kubectl } from "../kubectl.js";
import type { K8sScenarioName } from "../report.js";
import { type K8sEnv, type K8sScenario, rolloutStatus } from "../scenario.js";

/**
 * Calls per second of the in-cluster load, over 16 connections through the envoy Service:
 * kube-proxy places each connection at random, so with 16 every Envoy pod gets some.
 */
const RATE = 200;
const CONNECTIONS = 16;
/** How often each Envoy pod's request counter is read, in ms. */
const SAMPLE_MS = 1000;
/** The window over which the Envoys' shares are judged, in ms. */
const SHARE_WINDOW_MS = 4000;
/** Client connections end at this age (the kubernetes preset's max_connection_duration). */
const CONNECTION_AGE_MS = kubernetesPreset.envoy.maxConnectionDurationMs ?? 0;
/**
 * Clients are spread again once every connection made while one Envoy was away has
 * reached its age and drained: the age, the drain timeout, the share window, and 10 s
 * for kube-proxy and a loaded machine.
 */
const REBALANCE_BUDGET_MS = CONNECTION_AGE_MS + ENVOY_DRAIN_TIMEOUT_MS + SHARE_WINDOW_MS + 10_000;

/**
 * An operation on the Envoy Deployment under a steady load from inside the cluster (the load
 * tool in a pod, through the envoy Service): no call may fail, and clients must spread over
 * every Envoy again within the connection age. `act` does the operation and waits for it.
 */
function envoyTierScenario(
  name: K8sScenarioName,
  summary: string,
  loadMs: number,
  act: (ctx: ScenarioContext<K8sEnv>, reached: () => Promise<Map<string, number>>) => Promise<string>,
): K8sScenario {
  return {
    name,
    summary,
    inCluster: true,
    async run(ctx) {
      const { env, signal } = ctx;
      const t0 = performance.now();
      const now = (): number => performance.now() - t0;
      env.progress(
        `starting the load in a pod: ${RATE} calls/s over ${CONNECTIONS} connections for ${loadMs / 1000} s`,
      );
      const load = await startInClusterLoad(
        env.kube,
        { rps: RATE, durationMs: loadMs, connections: CONNECTIONS, concurrency: 32 },
        signal,
      );
      const counts = startShareSampler(() => envoyRequestCounts(env.kube, signal), now, SAMPLE_MS, signal);
      // Every serving Envoy pod carries at least a quarter of its fair share: clients reach each
      // of them (kube-proxy places connections at random, so an even split is not promised).
      const reachEvery = (what: string, timeoutMs: number) =>
        waitFor(
          what,
          async () => counts.balanced(await servingEnvoys(env.kube, signal), SHARE_WINDOW_MS, 1 / 4),
          { timeoutMs, intervalMs: SAMPLE_MS, signal },
        );
      try {
        const before = await reachEvery("every Envoy pod to carry calls", REBALANCE_BUDGET_MS);
        const opAt = now();
        const reached = () => reachEvery("clients to reach every Envoy pod", REBALANCE_BUDGET_MS * 2);
        const what = await act(ctx, reached);
        const doneAt = now();
        env.progress(`${what}; waiting for clients to reach every Envoy pod again`);
        const after = await reachEvery("clients to reach every Envoy pod again", REBALANCE_BUDGET_MS * 2);
        const balancedAt = now();
        // The load's duration is only its bound: once balanced again, nothing more is to be seen.
        env.progress(`load pod ${load.pod}: stopping it (SIGINT) and reading its report`);
        await load.stop(signal);
        const report = await load.report(loadMs + 60_000, signal);
        await counts.stop();
        // Every whole second of the run had answered calls: the operation left no gap.
        const seconds = report.perSecond.slice(0, -1);
        const answered = seconds.map((s) => Object.values(s.backends).reduce((a, b) => a + b, 0));
        const slowest = Math.min(...answered);
        return {
          requests: { ...report.requests, errors: report.errors },
          checks: [
            noFailedCalls(report),
            check(
              "calls were answered in every second of the run",
              seconds.length > 0 && slowest > 0,
              `at least ${slowest} answered per second over ${seconds.length} s (${RATE} sent)`,
            ),
            withinBudget(
              "clients reach every Envoy pod again in time",
              balancedAt - doneAt,
              REBALANCE_BUDGET_MS,
            ),
          ],
          measurements: {
            operationMs: round(doneAt - opAt),
            fewestAnsweredInASecond: slowest,
            doneToBalancedMs: round(balancedAt - doneAt),
            rebalanceBudgetMs: REBALANCE_BUDGET_MS,
            connectionAgeMs: CONNECTION_AGE_MS,
            envoyPodsBefore: before.size,
            envoyPodsAfter: after.size,
            envoySharesBeforePct: sharesPct(before),
            envoySharesAfterPct: sharesPct(after),
          },
          distributions: [{ phase: "servers, whole run", backends: report.backends }],
        };
      } finally {
        await counts.stop();
        await load.remove();
      }
    },
  };
}

export const envoyRestart = envoyTierScenario(
  "envoy-restart",
  "kubectl rollout restart deployment/envoy under a load from inside the cluster; no call may fail",
  90_000,
  async (ctx) => {
    await kubectl(ctx.env.kube, ["rollout", "restart", "deployment/envoy"], { signal: ctx.signal });
    await rolloutStatus(ctx, "envoy");
    return "every Envoy pod replaced";
  },
);

export const envoyDeletePod = envoyTierScenario(
  "envoy-delete-pod",
  "kubectl delete one Envoy pod under a load from inside the cluster; no call may fail",
  80_000,
  async (ctx) => {
    const [victim] = await servingEnvoys(ctx.env.kube, ctx.signal);
    if (victim === undefined) throw new EngineError("no serving Envoy pod to delete");
    // Returns once the pod is gone: its preStop drain and its exit.
    await kubectl(ctx.env.kube, ["delete", "pod", victim, "--timeout=90s"], {
      signal: ctx.signal,
      timeoutMs: 100_000,
    });
    await rolloutStatus(ctx, "envoy");
    return `pod ${victim} deleted and replaced`;
  },
);

export const envoyScale = envoyTierScenario(
  "envoy-scale",
  "scale Envoy 2 → 3 (until clients reach the third) → 2 under a load from inside the cluster; no call may fail",
  150_000,
  async (ctx, reached) => {
    const scaleTo = async (n: number): Promise<void> => {
      await kubectl(ctx.env.kube, ["scale", "deployment/envoy", `--replicas=${n}`], { signal: ctx.signal });
      await rolloutStatus(ctx, "envoy");
      await waitFor(
        `${n} serving Envoy pods`,
        async () => ((await servingEnvoys(ctx.env.kube, ctx.signal)).length === n ? true : undefined),
        { timeoutMs: 90_000, intervalMs: 500, signal: ctx.signal },
      );
    };
    try {
      await scaleTo(3);
      const t = performance.now();
      const three = await reached();
      ctx.env.progress(
        `clients reach all 3 Envoy pods ${round(performance.now() - t)} ms after the third was ready (${[...three.values()].join("/")} calls in ${SHARE_WINDOW_MS / 1000} s)`,
      );
      await scaleTo(2);
    } finally {
      // Leave the Deployment as found, also after a failure or Ctrl-C.
      await kubectl(ctx.env.kube, ["scale", "deployment/envoy", "--replicas=2"]).catch(() => "");
    }
    return "Envoy scaled 2 → 3 → 2";
  },
);
