import { check, distribution } from "../../../scenarios/report.js";

import { kubectl } from "../kubectl.js";
import { allWithin } from "../report.js";
import { type K8sScenario, rolloutStatus, scaleServers } from "../scenario.js";
import { K8S_TIMING, k8sBudgets } from "../timing.js";
import { names, readyToFirstCall, terminatingToLastCall, waitForPodsGone, waitForTraffic } from "./common.js";

/** Replicas of deployment/server the cluster starts with and the scenario returns to. */
export const BASE_REPLICAS = 3;

/** `kubectl scale` 3 → 6 → 2 under load, then back to 3 (not measured). */
export const scale: K8sScenario = {
  name: "scale",
  summary: "kubectl scale deployment/server 3 → 6 → 2 under load (then back to 3)",
  async run(ctx, { before: three, opAt: upAt }) {
    const { env, load } = ctx;
    try {
      env.progress("kubectl scale deployment/server --replicas=6");
      await scaleServers(ctx, 6);
      await rolloutStatus(ctx, "server");
      const six = await env.envoyMatchesPods("Envoy to route to all 6 server pods");
      const added = six.filter((p) => !three.some((o) => o.name === p.name));
      await waitForTraffic(ctx, added);
      const sixFrom = load.now();
      await load.waitForMore(600, 30_000);
      const sixTo = load.now();

      env.progress("kubectl scale deployment/server --replicas=2");
      await scaleServers(ctx, 2);
      await rolloutStatus(ctx, "server");
      const two = await env.envoyMatchesPods("Envoy to route to the 2 remaining server pods");
      const removed = six.filter((p) => !two.some((k) => k.name === p.name));
      await waitForPodsGone(ctx, removed);
      const twoFrom = load.now();
      env.progress(`removed pods ${names(removed)} are gone`);
      await load.waitForMore(300, 30_000);
      const results = await load.finish();

      const joinMs = readyToFirstCall(ctx, added);
      const leaveMs = terminatingToLastCall(ctx, removed);
      const atSix = distribution(results, sixFrom, sixTo);
      const atTwo = distribution(results, twoFrom);
      const keptIds = new Set(two.map((p) => env.ids.get(p.name)));
      return {
        checks: [
          allWithin("every new pod gets calls in time after Ready", joinMs, k8sBudgets(env.discovery).joinMs),
          check(
            "6 pods share the load",
            Object.keys(atSix).length === 6,
            `${Object.keys(atSix).length} answered`,
          ),
          allWithin(
            "removed pods get no calls after their drain delay",
            leaveMs.map((m) => Math.max(0, m)),
            K8S_TIMING.serverDrainDelayMs,
          ),
          check(
            "only the 2 kept pods answer afterwards",
            Object.keys(atTwo).length === 2 && Object.keys(atTwo).every((id) => keptIds.has(id)),
            `${Object.keys(atTwo).length} answered`,
          ),
        ],
        measurements: {
          readyToFirstCallMs: joinMs,
          terminatingToLastCallMs: leaveMs,
          drainDelayMs: K8S_TIMING.serverDrainDelayMs,
        },
        distributions: [
          { phase: "3 pods", backends: distribution(results, 0, upAt) },
          { phase: "6 pods", backends: atSix },
          { phase: "2 pods", backends: atTwo },
        ],
      };
    } finally {
      // Back to the base also after a failure or Ctrl-C half-way: without the signal (it may
      // have fired), and a failure here must not hide the scenario's own error.
      env.progress(`kubectl scale deployment/server --replicas=${BASE_REPLICAS} (back to the base)`);
      await kubectl(env.kube, ["scale", "deployment/server", `--replicas=${BASE_REPLICAS}`]).catch(
        (e: unknown) =>
          env.progress(
            `could not scale back to ${BASE_REPLICAS}: ${e instanceof Error ? e.message : String(e)}`,
          ),
      );
      // The next scenario waits for the rollout itself; after Ctrl-C nobody waits here.
      if (!ctx.signal.aborted) await rolloutStatus(ctx, "server").catch(() => {});
    }
  },
};
