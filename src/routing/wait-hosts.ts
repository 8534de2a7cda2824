import type { EnvoyAdmin, UpstreamHost } from "../envoy/admin.js";
import { CLUSTER_NAME } from "../envoy/bootstrap.js";
import type { ClientTls } from "../grpc/client-tls.js";
import { describeProbe, type ProbeResult, routeProber } from "../loadgen/probe.js";
import { formatHostPort } from "../util/address.js";
import { waitFor } from "../util/wait.js";

export interface HostWaitOptions {
  /** Give up after this long, in ms. */
  timeoutMs: number;
  /** Pause between two looks, in ms. Default 10. */
  intervalMs?: number;
  /** Ends the wait at once. */
  signal?: AbortSignal | undefined;
  /** Throws, saying why, once Envoy is gone (it exited): the wait then ends at once. */
  ensureUp?: (() => void) | undefined;
  /** host:port of Envoy's gRPC listener: calls through it confirm what its load balancer routes to. */
  listener: string;
  /** How the probe calls reach the listener. Default plaintext. */
  tls?: ClientTls | undefined;
  /**
   * How a reply names the host Envoy picked: "address", each server reports the
   * address Envoy knows it by (headless DNS, the lab); "opaque", one virtual IP
   * stands in front of the servers (a ClusterIP Service), so only a reply counts.
   * Default "address".
   */
  replies?: "address" | "opaque";
}

/** A probe call's deadline, in ms: a settled Envoy answers in a few; a call to a frozen host must not hold a wait long. */
const PROBE_DEADLINE_MS = 1000;

const describeHost = (h: UpstreamHost): string =>
  `${formatHostPort(h.address, h.port)}${h.healthy ? "" : " (unhealthy)"}`;

/**
 * True when a burst of probes reached exactly the hosts Envoy lists as healthy
 * (every call answered): the load balancer holds what /clusters shows.
 */
export function probeMatches(
  hosts: readonly UpstreamHost[],
  seen: ProbeResult,
  replies: "address" | "opaque",
): boolean {
  if (Object.keys(seen.failed).length > 0) return false;
  const healthy = hosts.filter((h) => h.healthy).map((h) => formatHostPort(h.address, h.port));
  if (replies === "opaque") return healthy.length === 1 && seen.answered.size > 0;
  return seen.answered.size === healthy.length && healthy.every((a) => seen.answered.has(a));
}

/**
 * Waits until Envoy's load balancer routes as `pick` wants, and returns what
 * `pick` returned with how long that took, in ms. The one way every part of
 * the project waits on Envoy's view of the servers.
 *
 * /clusters shows a change of hosts or health at once, but Envoy hands a
 * health change to its load balancers only when its update merge window
 * (common_lb_config.update_merge_window, 1 s by default) closes. So once
 * `pick` accepts the hosts /clusters lists, calls through the listener must
 * confirm them: a burst of 3 calls per listed host, on one connection (one
 * worker's picks in a row), must be answered by exactly the healthy hosts.
 * Under round robin that is decisive, even with other traffic interleaved at
 * scenario rates; under random picks a burst that misses a host just tries
 * again. An admin API or listener that does not answer yet counts as "not
 * yet". On timeout it names `what`, the hosts it saw last, the last probe,
 * and what `describe` adds.
 */
export async function pollEnvoyHosts<T>(
  admin: () => EnvoyAdmin,
  what: string,
  pick: (hosts: UpstreamHost[]) => T | undefined | Promise<T | undefined>,
  o: HostWaitOptions,
  describe?: () => string,
): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const until = Date.now() + o.timeoutMs;
  const prober = routeProber(o.listener, o.tls);
  let last: UpstreamHost[] | undefined;
  let lastProbe: ProbeResult | undefined;
  try {
    const value = await waitFor(
      what,
      async () => {
        o.ensureUp?.();
        const hosts = await admin()
          .clusterHosts(CLUSTER_NAME)
          .catch(() => undefined);
        if (hosts === undefined) return undefined;
        last = hosts;
        const picked = await pick(hosts);
        if (picked === undefined) return undefined;
        lastProbe = await prober.probe(Math.max(3, 3 * hosts.length), PROBE_DEADLINE_MS, until);
        return probeMatches(hosts, lastProbe, o.replies ?? "address") ? { picked } : undefined;
      },
      { timeoutMs: o.timeoutMs, intervalMs: o.intervalMs ?? 10, ...(o.signal ? { signal: o.signal } : {}) },
      () => {
        const seen =
          last === undefined
            ? "admin API not answering"
            : `${last.filter((h) => h.healthy).length} healthy of ${last.length} hosts: ${last.map(describeHost).join(", ") || "none"}`;
        const probe =
          lastProbe === undefined ? "" : `; calls through ${o.listener} reached ${describeProbe(lastProbe)}`;
        const more = describe?.();
        return `${seen}${probe}${more ? `; ${more}` : ""}`;
      },
    );
    return { value: value.picked, ms: performance.now() - t0 };
  } finally {
    prober.close();
  }
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
