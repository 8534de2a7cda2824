import { waitFor } from "../../../util/wait.js";
import { lastReplyMs } from "../../hosts.js";
import type { PodInfo } from "../pods.js";
import { firstCallAt, span } from "../report.js";
import type { K8sScenarioContext } from "../scenario.js";

/** Waits until every pod in `pods` has answered a call (its id learnt first). */
export async function waitForTraffic(ctx: K8sScenarioContext, pods: readonly PodInfo[]): Promise<void> {
  await ctx.learnIds(pods);
  await waitFor(
    `calls to reach ${pods.map((p) => p.name).join(", ")}`,
    () =>
      pods.every(
        (p) =>
          firstCallAt(ctx.load.results, ctx.ids.get(p.name) ?? "", ctx.pods.readyAt(p.name) ?? 0) !==
          undefined,
      )
        ? true
        : undefined,
    { timeoutMs: 60_000, intervalMs: 100, ...(ctx.signal ? { signal: ctx.signal } : {}) },
  );
}

/** Waits until none of `pods` exists any more (their termination is over). */
export async function waitForPodsGone(ctx: K8sScenarioContext, pods: readonly PodInfo[]): Promise<void> {
  const names = new Set(pods.map((p) => p.name));
  let left: string[] = [];
  await waitFor(
    `pods ${[...names].join(", ")} to finish terminating`,
    async () => {
      left = (await ctx.servers()).filter((p) => names.has(p.name)).map((p) => p.name);
      return left.length === 0 ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 1000, ...(ctx.signal ? { signal: ctx.signal } : {}) },
    () => `${left.join(", ")} still there`,
  );
}

/** For each new pod: from Ready (as the watch saw it) to its first call. */
export function readyToFirstCall(ctx: K8sScenarioContext, pods: readonly PodInfo[]): number[] {
  return pods.map((p) => {
    const readyAt = ctx.pods.readyAt(p.name);
    const id = ctx.ids.get(p.name);
    return span(readyAt, id === undefined ? undefined : firstCallAt(ctx.load.results, id, readyAt ?? 0));
  });
}

/**
 * For each removed pod: from the start of its termination to the last call it
 * answered (negative: its last call came before, e.g. it was out of rotation).
 */
export function terminatingToLastCall(ctx: K8sScenarioContext, pods: readonly PodInfo[]): number[] {
  return pods.map((p) => {
    const id = ctx.ids.get(p.name);
    return span(
      ctx.pods.deletingAt(p.name),
      id === undefined ? undefined : lastReplyMs(ctx.load.results, id),
    );
  });
}

export const names = (pods: readonly PodInfo[]): string => pods.map((p) => p.name).join(", ");
