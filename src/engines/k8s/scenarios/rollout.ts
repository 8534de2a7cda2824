import { check, distribution, round } from "../../../scenarios/report.js";

import { kubectl } from "../kubectl.js";
import { allWithin } from "../report.js";
import { type K8sScenario, rolloutStatus } from "../scenario.js";
import { K8S_TIMING, k8sBudgets } from "../timing.js";
import { names, readyToFirstCall, terminatingToLastCall, waitForPodsGone, waitForTraffic } from "./common.js";

/** `kubectl rollout restart deployment/server`: every pod replaced, one at a time, under load. */
export const rollout: K8sScenario = {
  name: "rollout",
  summary: "a rolling deploy of the servers (kubectl rollout restart deployment/server) under load",
  async run(ctx, { before, opAt }) {
    const { env, load } = ctx;
    env.progress(`kubectl rollout restart deployment/server (pods ${names(before)})`);
    await kubectl(env.kube, ["rollout", "restart", "deployment/server"], { signal: ctx.signal });
    await rolloutStatus(ctx, "server");
    const rolledAt = load.now();
    await waitForPodsGone(ctx, before);
    const after = await env.envoyMatchesPods("Envoy to route to exactly the new server pods");
    await waitForTraffic(ctx, after);
    const settledAt = load.now();
    env.progress(`new pods ${names(after)} all answer; old ones are gone`);
    await load.waitForMore(300, 30_000);
    const results = await load.finish();
    const joinMs = readyToFirstCall(ctx, after);
    const leaveMs = terminatingToLastCall(ctx, before);
    const final = distribution(results, settledAt);
    const newIds = new Set(after.map((p) => env.ids.get(p.name)));
    return {
      checks: [
        allWithin("every new pod gets calls in time after Ready", joinMs, k8sBudgets(env.discovery).joinMs),
        allWithin(
          "old pods get no calls after their drain delay",
          leaveMs.map((m) => Math.max(0, m)),
          K8S_TIMING.serverDrainDelayMs,
        ),
        check(
          "afterwards only the new pods answer",
          Object.keys(final).length === after.length && Object.keys(final).every((id) => newIds.has(id)),
          `${Object.keys(final).length} answered, ${after.length} new pods`,
        ),
      ],
      measurements: {
        rolloutMs: round(rolledAt - opAt),
        readyToFirstCallMs: joinMs,
        terminatingToLastCallMs: leaveMs,
        drainDelayMs: K8S_TIMING.serverDrainDelayMs,
      },
      distributions: [
        { phase: "before", backends: distribution(results, 0, opAt) },
        { phase: "during the rollout", backends: distribution(results, opAt, settledAt) },
        { phase: "after", backends: final },
      ],
    };
  },
};
