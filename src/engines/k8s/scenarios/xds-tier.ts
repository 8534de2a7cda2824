import { EngineError } from "../../../errors.js";
import { check, distribution, round } from "../../../scenarios/report.js";
import type { ScenarioContext } from "../../../scenarios/scenario.js";
import { waitFor } from "../../../util/wait.js";
import { kubectl } from "../kubectl.js";
import { listPods, type PodInfo, servingPods } from "../pods.js";
import { allWithin } from "../report.js";
import { type K8sEnv, type K8sScenario, rolloutStatus, scaleServers } from "../scenario.js";
import { k8sBudgets } from "../timing.js";
import { names, readyToFirstCall, waitForTraffic } from "./common.js";

const XDS_SELECTOR = "app.kubernetes.io/name=xds-server";
/** Envoy's gauge of its ADS stream: 1 while connected to a control plane. */
const CONNECTED = "control_plane.connected_state";
/** Connections Envoy opened to the xDS Service (the bootstrap's xds_cluster). */
const CONNECTIONS = "cluster.xds_cluster.upstream_cx_total";

const stat = async (ctx: ScenarioContext<K8sEnv>, name: string): Promise<number> =>
  (await ctx.env.envoy.admin.stat(name)) ?? 0;

/**
 * The xDS server replica that holds Envoy's ADS stream, by the replicas' logs ("stream N
 * opened by node 'POD'" without its "closed"); undefined when none says so.
 */
async function streamHolder(ctx: ScenarioContext<K8sEnv>, replicas: readonly PodInfo[]) {
  const node = ctx.env.envoy.pod;
  for (const p of replicas) {
    const log = await kubectl(ctx.env.kube, ["logs", `pod/${p.name}`], { signal: ctx.signal });
    const open = new Set<string>();
    for (const m of log.matchAll(/stream (\d+) (?:opened by node '([^']*)'|of node '([^']*)' closed)/g)) {
      if (m[2] === node) open.add(m[1] ?? "");
      if (m[3] === node) open.delete(m[1] ?? "");
    }
    if (open.size > 0) return p;
  }
  return undefined;
}

/**
 * `kubectl delete pod` of the xDS replica Envoy's ADS stream is on, under load: Envoy keeps its
 * configuration, reconnects through the xds Service to the other replica, and a server pod
 * added afterwards still reaches it within the join budget by xDS. Then back to 3 server pods.
 */
export const xdsDeletePod: K8sScenario = {
  name: "xds-delete-pod",
  summary: "kubectl delete pod of the xDS replica Envoy streams from, under load; then a server pod joins",
  async run(ctx, { before, opAt }) {
    const { env, load } = ctx;
    if (env.discovery !== "xds")
      throw new EngineError("scenario xds-delete-pod needs the xds overlay (make k8s-cluster DISCOVERY=xds)");
    const replicas = servingPods(await listPods(env.kube, XDS_SELECTOR, ctx.signal));
    if (replicas.length < 2)
      throw new EngineError(`${replicas.length} xDS replica(s) ready; the overlay runs 2`);
    // The replica to delete is the one holding Envoy's stream: deleting the other would test
    // nothing, and Envoy would never reconnect. Its log line may trail the stream by a moment.
    // Each poll reads every replica's log with kubectl: a quarter second apart, not the runner's 10 ms.
    const victim = await waitFor(
      `the xDS replica that holds Envoy ${env.envoy.pod}'s ADS stream to log it`,
      () => streamHolder(ctx, replicas),
      { timeoutMs: 15_000, intervalMs: 250, signal: ctx.signal },
    );
    try {
      // Counted before the delete: Envoy may reconnect before kubectl has even returned.
      const opened = await stat(ctx, CONNECTIONS);
      env.progress(`kubectl delete pod ${victim.name} (it holds Envoy ${env.envoy.pod}'s ADS stream)`);
      const deletedAt = load.now();
      await kubectl(env.kube, ["delete", "pod", victim.name, "--wait=false"], { signal: ctx.signal });
      // Envoy's stream ends with the replica; it opens a new connection to the xds Service.
      let reconnects = 0;
      const reconnectedAt = await waitFor(
        `Envoy ${env.envoy.pod} to open its ADS stream on the other replica`,
        async () => {
          reconnects = (await stat(ctx, CONNECTIONS)) - opened;
          if (reconnects < 1 || (await stat(ctx, CONNECTED)) !== 1) return undefined;
          const holder = await streamHolder(ctx, servingPods(await listPods(env.kube, XDS_SELECTOR)));
          return holder !== undefined && holder.name !== victim.name ? load.now() : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, signal: ctx.signal },
      );
      await rolloutStatus(ctx, "xds-server");
      env.progress(
        `Envoy streams from the other replica; kubectl scale deployment/server --replicas=${before.length + 1}`,
      );
      await scaleServers(ctx, before.length + 1);
      await rolloutStatus(ctx, "server");
      const now = await env.envoyMatchesPods("Envoy to route to the added server pod");
      const added = now.filter((p) => !before.some((b) => b.name === p.name));
      await waitForTraffic(ctx, added);
      env.progress(`added pod ${names(added)} answers`);
      await load.waitForMore(200, 30_000);
      const results = await load.finish();
      const joinMs = readyToFirstCall(ctx, added);
      return {
        checks: [
          check(
            "Envoy reconnected its ADS stream to another replica",
            reconnects >= 1,
            `${reconnects} new connection(s) to xds_cluster, streaming again ${round(reconnectedAt - deletedAt)} ms after the delete`,
          ),
          allWithin(
            "a server pod added afterwards gets calls in time after Ready",
            joinMs,
            k8sBudgets("xds").joinMs,
          ),
        ],
        measurements: { reconnectMs: round(reconnectedAt - deletedAt), readyToFirstCallMs: joinMs },
        distributions: [
          { phase: "before", backends: distribution(results, 0, opAt) },
          { phase: "after", backends: distribution(results, reconnectedAt) },
        ],
      };
    } finally {
      await kubectl(env.kube, ["scale", "deployment/server", `--replicas=${before.length}`]).catch(() => {});
      if (!ctx.signal.aborted) await rolloutStatus(ctx, "server").catch(() => {});
    }
  },
};
