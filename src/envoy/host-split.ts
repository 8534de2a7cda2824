import { UsageError } from "../errors.js";
import type { EnvoyAdmin } from "./admin.js";

/** Envoy's per-host counters, as EnvoyAdmin.hostCounters() reads them: cluster → host:port → counter → value. */
export type HostCounters = ReadonlyMap<string, ReadonlyMap<string, Readonly<Record<string, number>>>>;

/**
 * The per-host counter that says who answered. Measured on the lab (gRPC
 * health checks every 100 ms, Envoy's retry policy on, one server failing
 * half its calls UNAVAILABLE): health checks move none of a host's rq_*
 * counters (57 checks, no change); a retried call moves rq_total on both
 * hosts it tried, and rq_error on the one that failed it; rq_success moved
 * once per call, on the host whose reply the client got. So rq_success,
 * whose sum matched the calls made. A gRPC error Envoy does not map to a 5xx
 * (NOT_FOUND, INVALID_ARGUMENT) is a reply too and counts there as well.
 */
export const ANSWERED_COUNTER = "rq_success";

/** One upstream host's share of a run. */
export interface HostCount {
  /** host:port, or cluster/host:port when several clusters are counted. */
  name: string;
  cluster: string;
  host: string;
  /** Requests it answered during the run (ANSWERED_COUNTER's difference); 0 when never reached. */
  answered: number;
  /** Attempts Envoy sent it (rq_total), retries included. */
  attempts: number;
  /** Attempts that failed there (rq_error): reset, refused, or a 5xx-like status. */
  errors: number;
}

/** Who answered a run, by Envoy's counters before and after it. */
export interface HostSplit {
  /** The clusters counted: the one asked for, or those whose counters moved. */
  clusters: string[];
  counter: string;
  /** Every host the counted clusters have after the run, busiest first (hosts never reached included, with 0). */
  hosts: HostCount[];
  /** Hosts of the counted clusters that were gone after the run: what they answered is not known. */
  vanished: string[];
  /** The sum of `answered`. */
  total: number;
}

/**
 * A counter's growth between two readings. A host that appeared during the run
 * started from 0; a counter that went down belongs to a host Envoy dropped and
 * added again, which started over from 0.
 */
export const growth = (before: number | undefined, after: number): number =>
  before === undefined || after < before ? after : after - before;

/** The hosts that answered between two readings of hostCounters(); `cluster` picks one, else those that moved. */
export function hostSplit(before: HostCounters, after: HostCounters, cluster?: string): HostSplit {
  const all = [...new Set([...before.keys(), ...after.keys()])].sort();
  const moved = (name: string): boolean =>
    [...(after.get(name) ?? new Map())].some(
      ([host, c]) => growth(before.get(name)?.get(host)?.rq_total, c.rq_total ?? 0) > 0,
    );
  let clusters: string[];
  if (cluster !== undefined) {
    if (!after.has(cluster))
      throw new UsageError(`Envoy has no cluster '${cluster}'; its clusters: ${all.join(", ") || "none"}`);
    clusters = [cluster];
  } else {
    clusters = all.filter(moved);
    if (clusters.length === 0 && after.size === 1) clusters = [...after.keys()];
    if (clusters.length === 0)
      throw new UsageError(
        `no cluster of Envoy sent a request during the run, so its counters cannot say who answered: is the target routed through this Envoy? (its clusters: ${all.join(", ") || "none"})`,
      );
  }
  const named = (c: string, host: string): string => (clusters.length > 1 ? `${c}/${host}` : host);
  const hosts: HostCount[] = [];
  const vanished: string[] = [];
  for (const c of clusters) {
    const was = before.get(c) ?? new Map<string, Readonly<Record<string, number>>>();
    const now = after.get(c) ?? new Map<string, Readonly<Record<string, number>>>();
    for (const [host, counters] of now) {
      const prior = was.get(host);
      const diff = (name: string): number => growth(prior?.[name], counters[name] ?? 0);
      hosts.push({
        name: named(c, host),
        cluster: c,
        host,
        answered: diff(ANSWERED_COUNTER),
        attempts: diff("rq_total"),
        errors: diff("rq_error"),
      });
    }
    for (const host of was.keys()) if (!now.has(host)) vanished.push(named(c, host));
  }
  hosts.sort((a, b) => b.answered - a.answered || a.name.localeCompare(b.name));
  return {
    clusters,
    counter: ANSWERED_COUNTER,
    hosts,
    vanished: vanished.sort(),
    total: hosts.reduce((n, h) => n + h.answered, 0),
  };
}

/** A reading taken before a run; `finish()` reads again after it and gives the split. */
export interface HostSplitMeter {
  finish(): Promise<HostSplit>;
}

/** Reads Envoy's per-host counters now, for a split of what happens until `finish()`. */
export async function startHostSplit(admin: EnvoyAdmin, cluster?: string): Promise<HostSplitMeter> {
  const before = await admin.hostCounters();
  if (cluster !== undefined && !before.has(cluster))
    throw new UsageError(
      `Envoy at ${admin.address} has no cluster '${cluster}'; its clusters: ${[...before.keys()].sort().join(", ") || "none"}`,
    );
  return { finish: async () => hostSplit(before, await admin.hostCounters(), cluster) };
}
