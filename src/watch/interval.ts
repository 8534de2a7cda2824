import { growth } from "../envoy/host-split.js";
import type { EnvoyReading, HostReading } from "./reading.js";

/** Failed attempts on one host during an interval, by kind (Envoy keeps no 5xx count per host). */
export interface HostErrors {
  /** rq_error: the attempt failed there (a 5xx or a gRPC status Envoy maps to one, a reset, a refused stream). */
  error: number;
  /** rq_timeout: the route's or the per-try timeout ran out on it. */
  timeout: number;
  /** cx_connect_fail: connections to it that could not be made. */
  connectFail: number;
}

/** One host of the watched cluster over one interval. */
export interface HostRow {
  address: string;
  hostname: string | null;
  /** Attempts Envoy sent it in the interval (rq_total's growth, retries included); null on the first reading. */
  calls: number | null;
  /** `calls` per second of the interval; null on the first reading. */
  rps: number | null;
  /** Requests and streams in flight on it now (rq_active). */
  active: number;
  /** Its part of the cluster's calls in the interval, 0-1; null on the first reading or when there were none. */
  share: number | null;
  /** null on the first reading. */
  errors: HostErrors | null;
  /** "healthy" when Envoy routes to it (no failed health flag). */
  health: "healthy" | "unhealthy";
  /** Envoy's health flags set on it (failed_active_health_check, failed_outlier_check, …). */
  flags: readonly string[];
  /** Outlier detection has ejected it (failed_outlier_check). */
  ejected: boolean;
  /** It was not there at the previous reading. */
  added: boolean;
}

/** The watched cluster of one Envoy over one interval (or at the first reading, with no rates yet). */
export interface ClusterFrame {
  admin: string;
  cluster: string;
  /** Wall-clock time of the reading, ISO 8601. */
  ts: string;
  /** Length of the interval the rates cover, ms (measured between the two answers); null on the first reading. */
  intervalMs: number | null;
  /** Hosts now, sorted by address. */
  hosts: HostRow[];
  /** Hosts of the previous reading that are gone now. */
  removed: string[];
  /** A counter went down (Envoy restarted, or a host was dropped and added again): those count from 0. */
  reset: boolean;
  /** The cluster is no longer in Envoy (removed by CDS). */
  missing: boolean;
}

const COUNTED = ["rq_total", "rq_error", "rq_timeout", "cx_connect_fail"] as const;
const byAddress = (a: { address: string }, b: { address: string }): number =>
  a.address.localeCompare(b.address, "en", { numeric: true });

/**
 * The frame of `cluster` between two readings of the same Envoy; without `prev` (the first
 * reading) there are no rates, and every rate field is null rather than a made-up 0.
 */
export function clusterFrame(
  prev: EnvoyReading | undefined,
  now: EnvoyReading,
  cluster: string,
  wallMs: number,
): ClusterFrame {
  const hostsNow = now.clusters.get(cluster);
  const before = new Map((prev?.clusters.get(cluster) ?? []).map((h) => [h.address, h]));
  const intervalMs = prev === undefined ? null : Math.max(1, now.atMs - prev.atMs);
  let reset = false;
  const delta = (h: HostReading, was: HostReading | undefined, name: (typeof COUNTED)[number]): number => {
    const a = h.counters[name] ?? 0;
    const b = was?.counters[name];
    if (b !== undefined && a < b) reset = true;
    return growth(b, a);
  };
  const rows = [...(hostsNow ?? [])].sort(byAddress).map((h): Omit<HostRow, "share"> => {
    const was = before.get(h.address);
    const calls = intervalMs === null ? null : delta(h, was, "rq_total");
    return {
      address: h.address,
      hostname: h.hostname,
      calls,
      rps: calls === null || intervalMs === null ? null : (calls * 1000) / intervalMs,
      active: h.counters.rq_active ?? 0,
      errors:
        intervalMs === null
          ? null
          : {
              error: delta(h, was, "rq_error"),
              timeout: delta(h, was, "rq_timeout"),
              connectFail: delta(h, was, "cx_connect_fail"),
            },
      health: h.flags.length === 0 ? "healthy" : "unhealthy",
      flags: h.flags,
      ejected: h.flags.includes("failed_outlier_check"),
      added: prev !== undefined && was === undefined,
    };
  });
  const total = rows.reduce((n, r) => n + (r.calls ?? 0), 0);
  const addresses = new Set(rows.map((r) => r.address));
  return {
    admin: now.admin,
    cluster,
    ts: new Date(wallMs).toISOString(),
    intervalMs,
    hosts: rows.map((r) => ({ ...r, share: r.calls === null || total === 0 ? null : r.calls / total })),
    removed: [...before.keys()].filter((a) => !addresses.has(a)).sort(),
    reset,
    missing: hostsNow === undefined,
  };
}

/** The sum of the hosts' calls per second; null on the first reading. */
export const totalRps = (f: ClusterFrame): number | null =>
  f.intervalMs === null ? null : f.hosts.reduce((n, h) => n + (h.rps ?? 0), 0);
