import { check, distribution, round } from "../../../scenarios/report.js";

import { waitFor } from "../../../util/wait.js";
import { forwardToEnvoy, readyEnvoyPod } from "../envoy.js";
import { kubectl } from "../kubectl.js";
import { envoyRetryCounters, type K8sScenario, rolloutStatus } from "../scenario.js";

/**
 * `kubectl rollout restart deployment/envoy` under load: the client's one
 * connection ends with the old Envoy pod; it reconnects through a new
 * port-forward to the new pod (in the cluster a client reconnects through the
 * envoy Service). The failed calls are measured, not a check.
 */
export const envoyRestart: K8sScenario = {
  name: "envoy-restart",
  summary: "restart Envoy (kubectl rollout restart deployment/envoy) under load; clients reconnect",
  allowFailedCalls: true,
  async run(ctx, { before: servers, opAt }) {
    const { env, load } = ctx;
    const old = env.envoy;
    const port = old.grpc.port;
    // The old Envoy's retries count too: read its counters as late as it still answers.
    let oldCounters = await envoyRetryCounters(old);
    env.progress(`kubectl rollout restart deployment/envoy (pod ${old.pod})`);
    await kubectl(env.kube, ["rollout", "restart", "deployment/envoy"], { signal: ctx.signal });
    await rolloutStatus(ctx, "envoy");
    oldCounters = await envoyRetryCounters(old).then(
      (c) => (c.retries >= oldCounters.retries ? c : oldCounters),
      () => oldCounters,
    );
    const pod = await readyEnvoyPod(env.kube, ctx.signal);
    // The forward ends when the old pod goes; wait for that (bounded), then forward to the new pod on the same port.
    await waitFor(
      "the port-forward to the old Envoy pod to end",
      () => (old.grpc.child.state().t === "exited" ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 100, signal: ctx.signal },
    ).catch((e: unknown) => {
      // A forward that outlives its pod is stopped below all the same; only Ctrl-C ends the scenario here.
      if (ctx.signal.aborted) throw e;
    });
    const lostAt = load.now();
    await old.stop();
    env.replaceEnvoy(await forwardToEnvoy(env.kube, pod, port, ctx.signal), oldCounters);
    const forwardedAt = load.now();
    env.progress(`port-forward to the new Envoy pod ${pod} on the same port ${port}`);
    await env.envoyMatchesPods("the new Envoy to route to every server pod");
    const firstOkAfter = await load.waitUntil(
      "a call to succeed through the new Envoy",
      (rs) => rs.find((r) => r.code === 0 && r.startMs >= forwardedAt)?.startMs,
      30_000,
    );
    const settledAt = load.now();
    await load.waitForMore(300, 30_000);
    const results = await load.finish();
    const failed = results.filter((r) => r.code !== 0);
    const firstFailAt = failed.length > 0 ? Math.min(...failed.map((r) => r.startMs)) : undefined;
    const after = distribution(results, settledAt);
    const afterOk = results.filter((r) => r.startMs >= settledAt && r.code === 0).length;
    return {
      checks: [
        check("the Envoy pod was replaced", pod !== old.pod, `${old.pod} → ${pod}`),
        check(
          "calls succeed through the new Envoy",
          afterOk === results.filter((r) => r.startMs >= settledAt).length && afterOk > 0,
          `${afterOk} ok after reconnecting`,
        ),
        check(
          "every server answers through the new Envoy",
          Object.keys(after).length === servers.length,
          `${Object.keys(after).length} of ${servers.length}`,
        ),
      ],
      measurements: {
        failedCalls: failed.length,
        restartToOldForwardEndMs: round(lostAt - opAt),
        forwardGapMs: round(forwardedAt - lostAt),
        // From the first failed call to the first call that succeeded after the new forward.
        outageMs: firstFailAt === undefined ? 0 : round(firstOkAfter - firstFailAt),
      },
      distributions: [
        { phase: "old Envoy", backends: distribution(results, 0, opAt) },
        { phase: "new Envoy", backends: after },
      ],
    };
  },
};
