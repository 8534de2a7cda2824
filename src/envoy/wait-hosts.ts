import { formatHostPort } from "../util/address.js";
import { waitFor } from "../util/wait.js";
import type { EnvoyAdmin, UpstreamHost } from "./admin.js";
import { CLUSTER_NAME } from "./bootstrap.js";

export interface HostWaitOptions {
  /** Give up after this long, in ms. */
  timeoutMs: number;
  /** Pause between two looks at /clusters, in ms. Default 10. */
  intervalMs?: number;
  /** Ends the wait at once. */
  signal?: AbortSignal | undefined;
  /** Throws, saying why, once Envoy is gone (it exited): the wait then ends at once. */
  ensureUp?: (() => void) | undefined;
}

const describeHost = (h: UpstreamHost): string =>
  `${formatHostPort(h.address, h.port)}${h.healthy ? "" : " (unhealthy)"}`;

/**
 * Polls Envoy's hosts of cluster 'server' until `pick` returns a value, and
 * returns it with how long that took, in ms. The one way every part of the
 * project waits on Envoy's view of the servers; an admin API that does not
 * answer yet counts as "not yet". On timeout it names `what` and the hosts it
 * saw last (and what `describe` adds).
 */
export async function pollEnvoyHosts<T>(
  admin: () => EnvoyAdmin,
  what: string,
  pick: (hosts: UpstreamHost[]) => T | undefined | Promise<T | undefined>,
  o: HostWaitOptions,
  describe?: () => string,
): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  let last: UpstreamHost[] | undefined;
  const value = await waitFor(
    what,
    async () => {
      o.ensureUp?.();
      const hosts = await admin()
        .clusterHosts(CLUSTER_NAME)
        .catch(() => undefined);
      if (hosts === undefined) return undefined;
      last = hosts;
      return pick(hosts);
    },
    { timeoutMs: o.timeoutMs, intervalMs: o.intervalMs ?? 10, ...(o.signal ? { signal: o.signal } : {}) },
    () => {
      const seen =
        last === undefined
          ? "admin API not answering"
          : `${last.filter((h) => h.healthy).length} healthy of ${last.length} hosts: ${last.map(describeHost).join(", ") || "none"}`;
      const more = describe?.();
      return more ? `${seen}; ${more}` : seen;
    },
  );
  return { value, ms: performance.now() - t0 };
}

/** True once Envoy no longer routes to `address` (host:port): its host is gone, or marked unhealthy. */
export const notRoutedTo =
  (address: string) =>
  (hosts: UpstreamHost[]): boolean =>
    !hosts.some((h) => formatHostPort(h.address, h.port) === address && h.healthy);

/** True when Envoy routes to exactly these addresses (host:port), every one healthy. */
export const routesToExactly =
  (addresses: readonly string[]) =>
  (hosts: UpstreamHost[]): boolean => {
    const healthy = hosts.filter((h) => h.healthy).map((h) => formatHostPort(h.address, h.port));
    return healthy.length === addresses.length && addresses.every((a) => healthy.includes(a));
  };
