import { EngineError } from "../../../errors.js";
import { check, distribution } from "../../../scenarios/report.js";

import { kubectl } from "../kubectl.js";
import { allWithin } from "../report.js";
import type { K8sScenario } from "../scenario.js";
import { K8S_TIMING, k8sBudgets } from "../timing.js";
import { readyToFirstCall, terminatingToLastCall, waitForPodsGone, waitForTraffic } from "./common.js";

/** `kubectl delete pod` of one server under load: the Deployment replaces it. */
export const deletePod: K8sScenario = {
  name: "delete-pod",
  summary: "kubectl delete pod of one server under load; its replacement takes over",
  async run(ctx, { before, opAt }) {
    const { env, load } = ctx;
    const victim = before[0];
    if (victim === undefined) throw new EngineError("no ready server pod to delete");
    env.progress(`kubectl delete pod ${victim.name}`);
    await kubectl(env.kube, ["delete", "pod", victim.name, "--wait=false"], { signal: ctx.signal });
    await waitForPodsGone(ctx, [victim]);
    const after = await env.envoyMatchesPods("Envoy to route to the replacement and the other pods");
    const replacement = after.filter((p) => !before.some((b) => b.name === p.name));
    await waitForTraffic(ctx, replacement);
    const settledAt = load.now();
    await load.waitForMore(300, 30_000);
    const results = await load.finish();
    const joinMs = readyToFirstCall(ctx, replacement);
    const leaveMs = terminatingToLastCall(ctx, [victim]);
    const final = distribution(results, settledAt);
    const victimId = env.ids.get(victim.name) ?? "";
    return {
      checks: [
        check("one replacement pod", replacement.length === 1, `${replacement.length} new`),
        allWithin("the replacement gets calls in time after Ready", joinMs, k8sBudgets(env.discovery).joinMs),
        allWithin(
          "the deleted pod gets no calls after its drain delay",
          leaveMs.map((m) => Math.max(0, m)),
          K8S_TIMING.serverDrainDelayMs,
        ),
        check(
          "afterwards 3 pods answer, the deleted one not among them",
          Object.keys(final).length === 3 && !(victimId in final),
          `${Object.keys(final).length} answered`,
        ),
      ],
      measurements: {
        readyToFirstCallMs: joinMs,
        terminatingToLastCallMs: leaveMs,
        drainDelayMs: K8S_TIMING.serverDrainDelayMs,
      },
      distributions: [
        { phase: "before", backends: distribution(results, 0, opAt) },
        { phase: "after", backends: final },
      ],
    };
  },
};
