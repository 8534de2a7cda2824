import { EngineError } from "../../../errors.js";
import { check, distribution, round, withinBudget } from "../../../scenarios/report.js";
import { callsStartedSince, firstReplies, lastReplyMs } from "../../../scenarios/results.js";
import type { ScenarioOutcome } from "../../../scenarios/scenario.js";
import { formatHostPort } from "../../../util/address.js";
import { BASE_REPLICAS } from "../cluster.js";
import { runningReplicas } from "../replicas.js";
import { INTERRUPTED_STOP_S, scaleTo } from "./scale-to.js";
import type { ComposeScenario } from "./scenario.js";

const GROWN = 6;
const SHRUNK = 2;

/**
 * 3 → 6 → 2 replicas with `docker compose up --scale`: new replicas get traffic once Docker's
 * DNS lists them and they pass a health check; removed ones (SIGTERM, drain) are taken out by
 * health checks while they still serve. Returns to 3 replicas at the end.
 */
export const scale: ComposeScenario = {
  name: "scale",
  summary: `docker compose up --scale server=${GROWN}, then server=${SHRUNK}, under load (back to ${BASE_REPLICAS} after)`,
  load: "paced",
  async run(ctx) {
    const { env: cluster, load, signal } = ctx;
    const { budgets } = cluster;
    const before = await cluster.settled(signal);
    // Leave the cluster as found, also after a failure or Ctrl-C half-way: without the
    // signal (it may have fired), and after Ctrl-C without waiting for removed replicas
    // to drain. A failed restore must not hide the scenario's own error.
    const restore = () =>
      scaleTo(cluster, BASE_REPLICAS, undefined, signal.aborted ? INTERRUPTED_STOP_S : undefined);
    let outcome: ScenarioOutcome;
    try {
      const grownAt = load.now();
      await scaleTo(cluster, GROWN, signal);
      const grown = await runningReplicas(cluster, signal);
      const added = grown.filter((r) => !before.some((b) => b.serverId === r.replica.serverId));
      if (grown.length !== GROWN || added.length !== GROWN - before.length) {
        throw new EngineError(
          `compose: --scale server=${GROWN} gave ${grown.length} running replicas (${added.length} new)`,
        );
      }
      const addedIds = added.map((a) => a.replica.serverId);
      const first = await load.waitUntil(
        `a call answered by each of the ${added.length} new replicas`,
        (rs) => firstReplies(rs, addedIds, grownAt),
        90_000,
      );
      const wallZero = Date.now() - load.now();
      const firstOf = (id: string): number => first.get(id) ?? grownAt;
      const scaleToFirstCallMs = added.map((a) => round(firstOf(a.replica.serverId) - grownAt));
      const readyToFirstCallMs = added.map((a) =>
        round(firstOf(a.replica.serverId) - Math.max(grownAt, a.readyAtMs - wallZero)),
      );
      const sixFrom = Math.max(...added.map((a) => firstOf(a.replica.serverId)));
      await load.waitForMore(600);
      const sixTo = load.now();

      const shrinkAt = load.now();
      const shrinking = scaleTo(cluster, SHRUNK, signal);
      // Awaited below; a wait failing first must not leave its rejection unhandled.
      shrinking.catch(() => {});
      const outMs = await ctx.waitForHosts(
        `Envoy to route to only ${SHRUNK} replicas`,
        (hosts) => hosts.filter((h) => h.healthy).length === SHRUNK,
        60_000,
      );
      const outAt = load.now();
      await shrinking;
      const kept = await runningReplicas(cluster, signal);
      const routed = (await ctx.hosts())
        .filter((h) => h.healthy)
        .map((h) => formatHostPort(h.address, h.port));
      await load.waitUntil(`300 calls started with ${SHRUNK} replicas`, (rs) =>
        callsStartedSince(rs, outAt) >= 300 ? true : undefined,
      );
      const results = await load.finish();
      const atSix = distribution(results, sixFrom, sixTo);
      const atTwo = distribution(results, outAt);
      const removed = grown.filter((g) => !kept.some((k) => k.replica.serverId === g.replica.serverId));
      const lastCalls = removed.map((r) => lastReplyMs(results, r.replica.serverId) ?? shrinkAt);
      outcome = {
        checks: [
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
      };
    } catch (e) {
      await restore().catch(() => {});
      throw e;
    }
    await restore();
    return outcome;
  },
};
