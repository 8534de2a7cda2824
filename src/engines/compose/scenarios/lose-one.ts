import { EngineError } from "../../../errors.js";
import { notRoutedTo } from "../../../routing/wait-hosts.js";
import { check, distribution, round, type ScenarioCheck, withinBudget } from "../../../scenarios/report.js";
import { callsStartedSince, firstReplies, lastReplyMs } from "../../../scenarios/results.js";
import { WAIT_MS } from "../../../scenarios/scenario-load.js";
import type { ComposeCluster } from "../cluster.js";
import type { ComposeContainer } from "../project.js";
import { runningReplicas, waitForReplica } from "../replicas.js";
import type { ComposeScenario, ComposeScenarioName } from "./scenario.js";

/** What is done to one replica, and how it comes back. */
export interface Fault {
  name: ComposeScenarioName;
  summary: string;
  /** The docker command that takes the replica out, e.g. "docker kill". */
  action: string;
  /** The docker command that brings it back. */
  restoreAction: string;
  /** Takes it out; may resolve late (docker stop returns once the server has drained and exited). */
  inflict(cluster: ComposeCluster, victim: ComposeContainer, signal?: AbortSignal): Promise<void>;
  /** Brings it back, as the same process (unpause, reconnect) or a new one (start). */
  restore(cluster: ComposeCluster, victim: ComposeContainer, signal?: AbortSignal): Promise<void>;
  comesBack: "same process" | "new process";
  /**
   * True when the replica keeps the calls it was answering until it is restored (a frozen
   * process): their deadline must outlast the time it is out.
   */
  holdsCalls?: boolean;
  /** True when it can cut a reply under way (kill -9): see ScenarioOutcome.cutReplies. */
  cutsReplies?: boolean;
  /** Checks of this fault once the replica is out (e.g. a stopped server exited 0). */
  checksAfterInflict?(
    cluster: ComposeCluster,
    victim: ComposeContainer,
    signal?: AbortSignal,
  ): Promise<ScenarioCheck[]>;
}

/** Bounds of the waits below: generous, since a budget check judges the time anyway. */
const OUT_TIMEOUT_MS = 60_000;
const BACK_TIMEOUT_MS = 90_000;
/** How long the docker command that restores a replica may take, in ms. */
const RESTORE_MS = 5000;

/**
 * One of 3 replicas is lost under load, then brought back: the shared course of the kill,
 * stop, pause and disconnect scenarios. Measures when Envoy stops routing to it (from
 * /clusters and from the calls it still answered) and when it gets its first call again.
 */
export function loseOneScenario(fault: Fault): ComposeScenario {
  return {
    name: fault.name,
    summary: fault.summary,
    load: "paced",
    // A reply the frozen replica had begun (headers sent, trailers not) cannot be retried: it
    // ends when the replica thaws. The longest it can be out: until Envoy routes around it
    // (the detection budget), the out phase's 200 calls (within WAIT_MS), then the restore.
    ...(fault.holdsCalls
      ? { callDeadlineMs: (cluster: ComposeCluster) => cluster.budgets.detectionMs + WAIT_MS + RESTORE_MS }
      : {}),
    async run(ctx) {
      const { env: cluster, load, signal } = ctx;
      const { budgets } = cluster;
      const before = await cluster.settled(signal);
      if (before.length < 2)
        throw new EngineError(`compose: ${fault.name} needs at least 2 running replicas`);
      const replicas = await runningReplicas(cluster, signal);
      const victim = replicas[1];
      if (victim === undefined) throw new EngineError(`compose: ${fault.name} found no second replica`);

      let inflicting: Promise<void> | undefined;
      let restored = false;
      try {
        const lostAt = load.now();
        let inflictedAt = Number.POSITIVE_INFINITY;
        const pending = fault.inflict(cluster, victim.container, signal).then(() => {
          inflictedAt = load.now();
        });
        inflicting = pending;
        // Awaited below (and before restoring); a wait failing first must not leave it unhandled.
        pending.catch(() => {});
        // Surface a failed docker command at once rather than after a wait's timeout.
        const failed = pending.then(() => new Promise<never>(() => {}));
        failed.catch(() => {});
        const outMs = await Promise.race([
          ctx.waitForHosts(
            `Envoy to stop routing to ${victim.replica.name} (${victim.replica.address})`,
            notRoutedTo(victim.replica.address),
            OUT_TIMEOUT_MS,
          ),
          failed,
        ]);
        const outAt = load.now();
        await pending;
        const faultChecks = (await fault.checksAfterInflict?.(cluster, victim.container, signal)) ?? [];
        // 200 calls routed after Envoy's balancer took the replica out (the wait confirmed it): the "out" phase.
        await load.waitUntil("200 calls started after Envoy took the replica out", (rs) =>
          callsStartedSince(rs, outAt) >= 200 ? true : undefined,
        );

        const restoredAt = load.now();
        await fault.restore(cluster, victim.container, signal);
        restored = true;
        const back = await waitForReplica(cluster, victim.container.id, BACK_TIMEOUT_MS, signal);
        const first = await load.waitUntil(
          `a call answered by ${back.replica.name} once back`,
          (rs) => firstReplies(rs, [back.replica.serverId], restoredAt),
          BACK_TIMEOUT_MS,
        );
        const firstAt = first.get(back.replica.serverId) ?? restoredAt;
        await load.waitForMore(400);
        const results = await load.finish();

        const last = lastReplyMs(results, victim.replica.serverId, restoredAt);
        // Calls the replica had taken before it was lost and answered only once restored.
        const held = results.filter(
          (r) => r.serverId === victim.replica.serverId && r.startMs < lostAt && r.endMs >= restoredAt,
        );
        const whileOut = distribution(results, outAt, restoredAt);
        const afterBack = distribution(results, firstAt);
        // The ready line's time is wall clock; the load's clock started at wallZero.
        const wallZero = Date.now() - load.now();
        const readyAt = back.readyAtMs - wallZero;
        const restoreToFirstCallMs = firstAt - restoredAt;
        const joinMs =
          fault.comesBack === "new process" ? firstAt - Math.max(readyAt, restoredAt) : restoreToFirstCallMs;
        return {
          checks: [
            withinBudget(
              `Envoy stops routing to the replica after ${fault.action}`,
              outMs,
              budgets.detectionMs,
            ),
            check(
              "only the other replicas answer while it is out",
              Object.keys(whileOut).length === before.length - 1 && !(victim.replica.serverId in whileOut),
              `${Object.keys(whileOut).length} answered: ${Object.values(whileOut).join("/")}`,
            ),
            ...faultChecks,
            withinBudget(
              fault.comesBack === "new process"
                ? `the restarted replica gets its first call in time after ready (${fault.restoreAction})`
                : `the replica gets calls again in time after ${fault.restoreAction}`,
              joinMs,
              budgets.joinMs,
            ),
            check(
              "every replica answers once it is back",
              Object.keys(afterBack).length === before.length,
              `${Object.keys(afterBack).length} answered: ${Object.values(afterBack).join("/")}`,
            ),
          ],
          measurements: {
            lostToNotRoutedMs: round(outMs),
            lostToLastCallMs: last === undefined ? 0 : round(Math.max(0, last - lostAt)),
            callsHeldUntilRestore: held.length,
            longestHeldCallMs: round(Math.max(0, ...held.map((r) => r.endMs - r.startMs))),
            detectionBudgetMs: budgets.detectionMs,
            restoreToFirstCallMs: round(restoreToFirstCallMs),
            ...(fault.comesBack === "new process" ? { readyToFirstCallMs: round(joinMs) } : {}),
            joinBudgetMs: budgets.joinMs,
          },
          distributions: [
            { phase: "before", backends: distribution(results, 0, lostAt) },
            { phase: `out (${fault.action})`, backends: whileOut },
            { phase: `back (${fault.restoreAction})`, backends: afterBack },
          ],
          ...(fault.cutsReplies
            ? {
                cutReplies: {
                  fromMs: lostAt,
                  toMs: inflictedAt,
                  withinMs: budgets.detectionMs,
                  by: fault.action,
                },
              }
            : {}),
        };
      } finally {
        // Leave the cluster as found, also after a failure or Ctrl-C half-way: let the fault
        // finish (or fail) first, so the restore does not race it, then restore without the signal.
        if (!restored && inflicting !== undefined) {
          await inflicting.catch(() => {});
          await fault.restore(cluster, victim.container).catch(() => {});
        }
      }
    },
  };
}
