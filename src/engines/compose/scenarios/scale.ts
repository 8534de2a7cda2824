import { EngineError } from "../../../errors.js";
import { check, distribution, noFailedCalls, round, withinBudget } from "../../../lab/scenarios/report.js";
import { lastReplyMs, waitForCallsSince, waitForEnvoyHosts, waitForFirstReplies } from "../../hosts.js";
import { underLoad } from "../../load.js";
import { finishEngineReport, readRetryCounters } from "../../report.js";
import { BASE_REPLICAS, type ComposeCluster } from "../cluster.js";
import { runningReplicas } from "../replicas.js";
import type { ComposeScenario, ComposeScenarioReport } from "./scenario.js";

const GROWN = 6;
const SHRUNK = 2;

/** `docker compose up --scale server=N` on the server service alone: no other container is touched. */
const scaleTo = (cluster: ComposeCluster, n: number, signal?: AbortSignal): Promise<string> =>
  cluster.project.compose(
    ["up", "--detach", "--no-deps", "--no-recreate", "--no-build", "--scale", `server=${n}`, "server"],
    { signal, timeoutMs: 120_000 },
  );

/**
 * 3 → 6 → 2 replicas with `docker compose up --scale`: new replicas get traffic once Docker's
 * DNS lists them and they pass a health check; removed ones (SIGTERM, drain) are taken out by
 * health checks while they still serve. Returns to 3 replicas at the end.
 */
export const scale: ComposeScenario = {
  name: "scale",
  summary: `docker compose up --scale server=${GROWN}, then server=${SHRUNK}, under load (back to ${BASE_REPLICAS} after)`,
  async run(cluster, signal) {
    const t0 = performance.now();
    const before = await cluster.settled(signal);
    const counters = await readRetryCounters(cluster.target);
    const { budgets, target } = cluster;
    try {
      return (await underLoad(target, signal, async (load) => {
        const grownAt = load.now();
        await scaleTo(cluster, GROWN, signal);
        const grown = await runningReplicas(cluster, signal);
        const added = grown.filter((r) => !before.some((b) => b.serverId === r.replica.serverId));
        if (grown.length !== GROWN || added.length !== GROWN - before.length) {
          throw new EngineError(
            `compose: --scale server=${GROWN} gave ${grown.length} running replicas (${added.length} new)`,
          );
        }
        const first = await waitForFirstReplies(
          load,
          added.map((a) => a.replica.serverId),
          grownAt,
          { timeoutMs: 90_000, signal },
        );
        const wallZero = Date.now() - load.now();
        const firstOf = (id: string): number => first.get(id) ?? grownAt;
        const scaleToFirstCallMs = added.map((a) => round(firstOf(a.replica.serverId) - grownAt));
        const readyToFirstCallMs = added.map((a) =>
          round(firstOf(a.replica.serverId) - Math.max(grownAt, a.readyAtMs - wallZero)),
        );
        const sixFrom = Math.max(...added.map((a) => firstOf(a.replica.serverId)));
        await load.waitForResults(load.results.length + 600, 20_000);
        const sixTo = load.now();

        const shrinkAt = load.now();
        const shrinking = scaleTo(cluster, SHRUNK, signal);
        const outMs = await waitForEnvoyHosts(
          target,
          `Envoy to route to only ${SHRUNK} replicas`,
          (hosts) => hosts.filter((h) => h.healthy).length === SHRUNK,
          { timeoutMs: 60_000, signal },
        );
        const outAt = load.now();
        await shrinking;
        const kept = await runningReplicas(cluster, signal);
        const routed = (await target.admin.clusterHosts("server"))
          .filter((h) => h.healthy)
          .map((h) => `${h.address}:${h.port}`);
        await waitForCallsSince(load, outAt + target.envoy.updateMergeWindowMs, 300, {
          timeoutMs: 20_000,
          signal,
        });
        const results = await load.stop();
        const atSix = distribution(results, sixFrom, sixTo);
        // /clusters shows a health change at once; the balancer gets it after the merge window.
        const atTwo = distribution(results, outAt + target.envoy.updateMergeWindowMs);
        const removed = grown.filter((g) => !kept.some((k) => k.replica.serverId === g.replica.serverId));
        const lastCalls = removed.map((r) => lastReplyMs(results, r.replica.serverId) ?? shrinkAt);
        return finishEngineReport(
          target,
          cluster.timings,
          "scale",
          counters,
          results,
          [
            noFailedCalls(results),
            check(
              `every new replica gets its first call in time after ready`,
              Math.max(...readyToFirstCallMs) <= budgets.joinMs,
              `${readyToFirstCallMs.join(", ")} ms (budget ${budgets.joinMs} ms)`,
            ),
            check(
              `${GROWN} replicas share the load`,
              Object.keys(atSix).length === GROWN,
              `${Object.keys(atSix).length} answered`,
            ),
            withinBudget(`Envoy stops routing to the removed replicas in time`, outMs, budgets.detectionMs),
            check(
              `Envoy routes to the ${SHRUNK} replicas Compose kept`,
              kept.length === SHRUNK && kept.every((k) => routed.includes(k.replica.address)),
              `kept ${kept.map((k) => k.replica.name).join(", ")}; routed to ${routed.join(", ")}`,
            ),
            check(
              `only the ${SHRUNK} kept replicas answer afterwards`,
              Object.keys(atTwo).length === SHRUNK && kept.every((k) => k.replica.serverId in atTwo),
              `${Object.keys(atTwo).length} answered`,
            ),
          ],
          {
            measurements: {
              scaleToFirstCallMs,
              readyToFirstCallMs,
              joinBudgetMs: budgets.joinMs,
              scaleDownToNotRoutedMs: round(outMs),
              scaleDownToLastCallMs: round(Math.max(0, ...lastCalls.map((t) => t - shrinkAt))),
              detectionBudgetMs: budgets.detectionMs,
            },
            distributions: [
              { phase: `${before.length} replicas`, backends: distribution(results, 0, grownAt) },
              { phase: `${GROWN} replicas`, backends: atSix },
              { phase: `${SHRUNK} replicas`, backends: atTwo },
            ],
          },
          performance.now() - t0,
        );
      })) as ComposeScenarioReport;
    } finally {
      // Leave the cluster as found, also when the scenario failed half-way.
      if (!signal?.aborted) await scaleTo(cluster, BASE_REPLICAS);
    }
  },
};
