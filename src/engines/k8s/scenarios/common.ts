import { firstCallAt, lastReplyMs, span } from "../../../scenarios/results.js";
import type { ScenarioContext } from "../../../scenarios/scenario.js";
import { waitFor } from "../../../util/wait.js";
import type { PodInfo } from "../pods.js";
import type { K8sEnv } from "../scenario.js";

type Ctx = ScenarioContext<K8sEnv>;

/** Waits until every pod in `pods` has answered a call since it was Ready (its id learnt first). */
export async function waitForTraffic(ctx: Ctx, pods: readonly PodInfo[]): Promise<void> {
  const { env } = ctx;
  await env.learnIds(pods);
  await ctx.load.waitUntil(
    `calls to reach ${names(pods)}`,
    (rs) =>
      pods.every(
        (p) => firstCallAt(rs, env.ids.get(p.name) ?? "", env.pods.readyAt(p.name) ?? 0) !== undefined,
      )
        ? true
        : undefined,
    60_000,
  );
}

/** Waits until none of `pods` exists any more (their termination is over). */
export async function waitForPodsGone(ctx: Ctx, pods: readonly PodInfo[]): Promise<void> {
  const wanted = new Set(pods.map((p) => p.name));
  let left: string[] = [];
  // Each look lists pods with kubectl: once a second, not at the runner's 10 ms.
  await waitFor(
    `pods ${[...wanted].join(", ")} to finish terminating`,
    async () => {
      left = (await ctx.env.servers()).filter((p) => wanted.has(p.name)).map((p) => p.name);
      return left.length === 0 ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1000, signal: ctx.signal },
    () => `${left.join(", ")} still there`,
  );
}

/** For each new pod: from Ready (as the watch saw it) to its first call. */
export function readyToFirstCall(ctx: Ctx, pods: readonly PodInfo[]): number[] {
  return pods.map((p) => {
    const readyAt = ctx.env.pods.readyAt(p.name);
    const id = ctx.env.ids.get(p.name);
    return span(readyAt, id === undefined ? undefined : firstCallAt(ctx.load.results, id, readyAt ?? 0));
  });
}

/**
 * For each removed pod: from the start of its termination to the last call it
 * answered (negative: its last call came before, e.g. it was out of rotation).
 */
export function terminatingToLastCall(ctx: Ctx, pods: readonly PodInfo[]): number[] {
  return pods.map((p) => {
    const id = ctx.env.ids.get(p.name);
    return span(
      ctx.env.pods.deletingAt(p.name),
      id === undefined ? undefined : lastReplyMs(ctx.load.results, id),
    );
  });
}

export const names = (pods: readonly PodInfo[]): string => pods.map((p) => p.name).join(", ");
