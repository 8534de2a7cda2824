import type { UpstreamHost } from "../envoy/admin.js";
import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import type { PacedLoad, RequestResult } from "../loadgen/paced-load.js";
import { formatHostPort } from "../util/address.js";
import { waitFor } from "../util/wait.js";
import type { EngineTarget } from "./target.js";

const hostAddress = (h: UpstreamHost): string => formatHostPort(h.address, h.port);

/** True once Envoy no longer routes to `address`: its host is gone, or marked unhealthy. */
export const notRoutedTo =
  (address: string) =>
  (hosts: UpstreamHost[]): boolean =>
    !hosts.some((h) => hostAddress(h) === address && h.healthy);

/** True when Envoy routes to exactly these addresses, every one healthy. */
export const routesToExactly =
  (addresses: readonly string[]) =>
  (hosts: UpstreamHost[]): boolean => {
    const healthy = hosts.filter((h) => h.healthy).map(hostAddress);
    return healthy.length === addresses.length && addresses.every((a) => healthy.includes(a));
  };

export interface HostWaitOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Polls Envoy's /clusters (every 25 ms) until `predicate` holds for the server cluster's
 * hosts; returns how long that took, in ms.
 */
export async function waitForEnvoyHosts(
  target: EngineTarget,
  what: string,
  predicate: (hosts: UpstreamHost[]) => boolean,
  o: HostWaitOptions,
): Promise<number> {
  const t0 = performance.now();
  let last: UpstreamHost[] = [];
  await waitFor(
    what,
    async () => {
      last = await target.admin.clusterHosts(CLUSTER_NAME);
      return predicate(last) ? true : undefined;
    },
    { timeoutMs: o.timeoutMs, intervalMs: 25, ...(o.signal ? { signal: o.signal } : {}) },
    () => last.map((h) => `${hostAddress(h)}${h.healthy ? "" : " (unhealthy)"}`).join(", ") || "no hosts",
  );
  return performance.now() - t0;
}

/**
 * Waits until each of `serverIds` has answered a call started at or after `fromMs` (load
 * clock) and returns when each first did, on the load clock.
 */
export async function waitForFirstReplies(
  load: PacedLoad,
  serverIds: readonly string[],
  fromMs: number,
  o: HostWaitOptions,
): Promise<Map<string, number>> {
  const first = new Map<string, number>();
  let seen = 0;
  await waitFor(
    `a call answered by each of ${serverIds.length} server(s)`,
    () => {
      // Results arrive in completion order: scan only what is new since the last look.
      for (; seen < load.results.length; seen++) {
        const r = load.results[seen] as RequestResult;
        if (r.serverId === undefined || r.startMs < fromMs || !serverIds.includes(r.serverId)) continue;
        first.set(r.serverId, Math.min(first.get(r.serverId) ?? r.startMs, r.startMs));
      }
      return serverIds.every((id) => first.has(id)) ? true : undefined;
    },
    { timeoutMs: o.timeoutMs, intervalMs: 10, ...(o.signal ? { signal: o.signal } : {}) },
    () => `${first.size} of ${serverIds.length} answered`,
  );
  return first;
}

/** The start time (load clock) of the last call `serverId` answered before `beforeMs`, or undefined if none. */
export function lastReplyMs(
  results: readonly RequestResult[],
  serverId: string,
  beforeMs = Number.POSITIVE_INFINITY,
): number | undefined {
  let last: number | undefined;
  for (const r of results) {
    if (r.serverId === serverId && r.endMs < beforeMs && (last === undefined || r.startMs > last))
      last = r.startMs;
  }
  return last;
}

/** Waits until `n` calls started at or after `fromMs` (load clock) have finished. */
export async function waitForCallsSince(
  load: PacedLoad,
  fromMs: number,
  n: number,
  o: HostWaitOptions,
): Promise<void> {
  let count = 0;
  let seen = 0;
  await waitFor(
    `${n} calls started after ${Math.round(fromMs)} ms to finish`,
    () => {
      for (; seen < load.results.length; seen++)
        if ((load.results[seen] as RequestResult).startMs >= fromMs) count++;
      return count >= n ? true : undefined;
    },
    { timeoutMs: o.timeoutMs, intervalMs: 10, ...(o.signal ? { signal: o.signal } : {}) },
    () => `${count} finished`,
  );
}
