import { check, distribution, noFailedCalls } from "../../../lab/scenarios/report.js";
import { servingPods } from "../pods.js";
import { allWithin } from "../report.js";
import { type K8sScenario, rolloutStatus, scaleServers } from "../scenario.js";
import { K8S_TIMING, k8sBudgets } from "../timing.js";
import { names, readyToFirstCall, terminatingToLastCall, waitForPodsGone, waitForTraffic } from "./common.js";

/** `kubectl scale` 3 → 6 → 2 under load, then back to 3 (not measured). */
export const scale: K8sScenario = {
  name: "scale",
  summary: "kubectl scale deployment/server 3 → 6 → 2 under load (then back to 3)",
  async run(ctx) {
    const { load } = ctx;
    await load.waitForResults(300, 30_000);
    const three = servingPods(await ctx.servers());
    await ctx.learnIds(three);
    const upAt = load.now();
    ctx.progress("kubectl scale deployment/server --replicas=6");
    await scaleServers(ctx, 6);
    await rolloutStatus(ctx, "server");
    const six = await ctx.envoyMatchesPods("Envoy to route to all 6 server pods");
    const added = six.filter((p) => !three.some((o) => o.name === p.name));
    await waitForTraffic(ctx, added);
    const sixFrom = load.now();
    await load.waitForResults(load.results.length + 600, 30_000);
    const sixTo = load.now();

    ctx.progress("kubectl scale deployment/server --replicas=2");
    await scaleServers(ctx, 2);
    await rolloutStatus(ctx, "server");
    const two = await ctx.envoyMatchesPods("Envoy to route to the 2 remaining server pods");
    const removed = six.filter((p) => !two.some((k) => k.name === p.name));
    await waitForPodsGone(ctx, removed);
    const twoFrom = load.now();
    ctx.progress(`removed pods ${names(removed)} are gone`);
    await load.waitForResults(load.results.length + 300, 30_000);
    const results = await load.stop();

    ctx.progress("kubectl scale deployment/server --replicas=3 (back to the base)");
    await scaleServers(ctx, 3);
    await rolloutStatus(ctx, "server");

    const joinMs = readyToFirstCall(ctx, added);
    const leaveMs = terminatingToLastCall(ctx, removed);
    const atSix = distribution(results, sixFrom, sixTo);
    const atTwo = distribution(results, twoFrom);
    const keptIds = new Set(two.map((p) => ctx.ids.get(p.name)));
    return {
      results,
      checks: [
        noFailedCalls(results),
        allWithin("every new pod gets calls in time after Ready", joinMs, k8sBudgets().joinMs),
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
  },
};
