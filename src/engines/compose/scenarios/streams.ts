import { EngineError } from "../../../errors.js";
import { round } from "../../../scenarios/report.js";
import { startScenarioStreams } from "../../../scenarios/scenario-streams.js";
import { movedOffMs } from "../../../scenarios/stream-phases.js";
import { StreamPhaseTracker } from "../../../scenarios/stream-tracker.js";
import { streamsOutcome } from "../../../scenarios/streams-outcome.js";
import { BASE_REPLICAS } from "../cluster.js";
import { docker } from "../docker.js";
import { type ReplicaInContainer, runningReplicas } from "../replicas.js";
import { INTERRUPTED_STOP_S, scaleTo } from "./scale-to.js";
import type { ComposeScenario } from "./scenario.js";
import {
  composeStreamsBudgets,
  drainDelayMsOf,
  streamLifetimeMs,
  COMPOSE_STREAMS_TIMINGS as T,
} from "./streams-plan.js";

const GROWN = 6;
/** How long the streams may take to connect through Envoy's published listener and all open, in ms. */
const CONNECT_MS = 10_000;
const LIFETIME_MS = streamLifetimeMs(T);

/**
 * Long-lived Subscribe streams through Envoy, each ending with OK after its lifetime and
 * resuming from its last sequence number: 3 → 6 replicas (`docker compose up --scale`), then
 * `docker stop` of one, then back to 3, the streams running throughout. Each phase must reach
 * every replica's fair share within its budget; nothing may be lost, repeated or given up.
 */
export const streams: ComposeScenario = {
  name: "streams",
  summary: `${T.streams} long-lived streams ending after ${LIFETIME_MS / 1000} s and resuming: docker compose up --scale server=${GROWN}, then docker stop one (back to ${BASE_REPLICAS} after)`,
  load: "none",
  async run(ctx) {
    const { env: cluster, signal } = ctx;
    const before = await cluster.settled(signal);
    const baseIds = before.map((r) => r.serverId);
    const victim = (await runningReplicas(cluster, signal))[1];
    if (victim === undefined) throw new EngineError("compose: streams needs at least 2 running replicas");
    const args = await docker(["inspect", "--format", "{{json .Args}}", victim.container.id], { signal });
    const drainDelayMs = drainDelayMsOf(JSON.parse(args) as string[]);
    const budgets = composeStreamsBudgets(T, cluster.budgets, drainDelayMs);
    const run = await startScenarioStreams(cluster.target, T, {
      maxLifetimeMs: LIFETIME_MS,
      connectTimeoutMs: CONNECT_MS,
    });
    const track = new StreamPhaseTracker(run, T.streams, ctx.waitFor);
    const lastReady = (rs: readonly ReplicaInContainer[], ids: readonly string[]) =>
      Math.max(
        ...rs.filter((r) => !ids.includes(r.replica.serverId)).map((r) => track.fromWall(r.readyAtMs)),
      );
    let restored = false;
    let stopping = false;
    try {
      const openedAt = await track.until("every stream to open", (s) => s.open === T.streams, 0, CONNECT_MS);
      if (openedAt === undefined) {
        const open = run.samples.at(-1)?.open ?? 0;
        throw new EngineError(
          `compose: ${open} of ${T.streams} streams open through Envoy after ${CONNECT_MS} ms`,
        );
      }
      const fair = await track.until("the fair share", track.fairOn(baseIds), openedAt, budgets.initialMs);
      track.end({
        phase: `${before.length} replicas`,
        key: "initial",
        fromMs: openedAt,
        servers: baseIds,
        fairShare: { ms: fair, budgetMs: budgets.initialMs, since: "after every stream opened" },
      });

      const scaleAt = run.now();
      await scaleTo(cluster, GROWN, signal);
      const grown = await runningReplicas(cluster, signal);
      const grownIds = grown.map((g) => g.replica.serverId);
      if (
        grown.length !== GROWN ||
        grown.filter((g) => !baseIds.includes(g.replica.serverId)).length !== GROWN - before.length
      ) {
        throw new EngineError(`compose: --scale server=${GROWN} gave ${grown.length} running replicas`);
      }
      const readyAt = lastReady(grown, baseIds);
      track.end({
        phase: `${before.length} → ${GROWN} replicas`,
        key: "scaleOut",
        servers: grownIds,
        fairShare: {
          ms: await track.until("the fair share", track.fairOn(grownIds), readyAt, budgets.scaleOutMs),
          budgetMs: budgets.scaleOutMs,
          since: "after the last new one was ready",
        },
      });

      const stopAt = run.now();
      stopping = true;
      await docker(["stop", victim.container.id], { signal, timeoutMs: 90_000 });
      const rest = grownIds.filter((id) => id !== victim.replica.serverId);
      await track.until(
        "the stopped replica's streams open elsewhere",
        track.onlyOn(rest),
        run.now(),
        budgets.settleMs,
      );
      track.end({
        phase: `docker stop ${victim.replica.name}`,
        key: "stop",
        servers: rest,
        fairShare: {
          ms: await track.until("the fair share", track.fairOn(rest), stopAt, budgets.stopFairMs),
          budgetMs: budgets.stopFairMs,
          since: "after docker stop",
        },
        moved: {
          ms: movedOffMs(run.samples, [victim.replica.serverId], stopAt, T.streams),
          budgetMs: budgets.stopMoveMs,
          what: "its streams resume on the other replicas after docker stop",
        },
      });

      const restoreAt = run.now();
      await scaleTo(cluster, BASE_REPLICAS, signal);
      restored = true;
      const returnedAt = run.now();
      const kept = await runningReplicas(cluster, signal);
      const keptIds = kept.map((k) => k.replica.serverId);
      await track.until(
        "every stream open on the kept replicas",
        track.onlyOn(keptIds),
        returnedAt,
        budgets.settleMs,
      );
      // A kept replica may be a new process (the stopped one, started again): the fair share waits for it to join.
      const joinedFrom = Math.max(returnedAt, lastReady(kept, grownIds));
      track.end({
        phase: `back to ${BASE_REPLICAS}`,
        key: "restore",
        servers: keptIds,
        fairShare: {
          ms: await track.until("the fair share", track.fairOn(keptIds), joinedFrom, budgets.scaleOutMs),
          budgetMs: budgets.scaleOutMs,
          since: `after docker compose up --scale server=${BASE_REPLICAS} returned${joinedFrom > returnedAt ? " and its new replica was ready" : ""}`,
        },
        moved: {
          ms: movedOffMs(
            run.samples,
            grownIds.filter((id) => !keptIds.includes(id)),
            restoreAt,
            T.streams,
          ),
          what: `the removed replicas' streams resume on the ${keptIds.length} kept`,
        },
      });
      return streamsOutcome(track.phases, await run.stop(), {
        streamLifetimeMs: LIFETIME_MS,
        "scaleOut.commandToLastReadyMs": round(readyAt - scaleAt),
        "stop.drainDelayMs": drainDelayMs,
      });
    } finally {
      await run.stop(signal.aborted);
      // Leave the cluster as found, also after a failure or Ctrl-C half-way (see scale.ts). A
      // docker stop cut short still drains in the engine: finish it first, or Compose would find
      // the replica running, leave it, and see it exit a few seconds later.
      if (!restored) {
        if (stopping) await docker(["stop", "-t", "1", victim.container.id]).catch(() => {});
        await scaleTo(
          cluster,
          BASE_REPLICAS,
          undefined,
          signal.aborted ? INTERRUPTED_STOP_S : undefined,
        ).catch(() => {});
      }
    }
  },
};
