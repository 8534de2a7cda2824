import { UsageError } from "../errors.js";
import type { EnvoyReading } from "./reading.js";

/** The cluster a section shows, and how it was chosen. */
export interface ClusterChoice {
  name: string;
  /** "asked": --cluster named it; "picked": watch chose it (the one with the most hosts). */
  by: "asked" | "picked";
  /** Every cluster of that Envoy, sorted. */
  all: string[];
}

/**
 * Clusters that carry Envoy's own traffic rather than the service's: xDS and SDS control
 * planes, access-log, load-report and tracing sinks, the admin, and Istio's catch-alls.
 */
const INFRA_WORD =
  /(^|[^a-z])(xds|sds|admin|als|lrs|zipkin|jaeger|otel|opentelemetry|tracing|statsd|prometheus)([^a-z]|$)/i;
const INFRA_PART = /blackhole|passthrough/i;

/** True for a cluster that is not the service's (xds_cluster, sds-grpc, admin, BlackHoleCluster, …). */
export const isInfraCluster = (name: string): boolean => INFRA_WORD.test(name) || INFRA_PART.test(name);

const callsSoFar = (r: EnvoyReading, name: string): number =>
  (r.clusters.get(name) ?? []).reduce((n, h) => n + (h.counters.rq_total ?? 0), 0);

/**
 * The cluster to show: the one asked for, else the service's cluster with the most hosts (ties:
 * the one that took the most calls so far, then by name). A UsageError listing the clusters when
 * the one asked for is not there.
 */
export function pickCluster(r: EnvoyReading, asked: string | undefined): ClusterChoice {
  const all = [...r.clusters.keys()].sort();
  const list = all.join(", ") || "none";
  if (asked !== undefined) {
    if (!r.clusters.has(asked))
      throw new UsageError(
        `grpc-lb watch: Envoy at ${r.admin} has no cluster '${asked}'; its clusters: ${list}`,
      );
    return { name: asked, by: "asked", all };
  }
  const hosts = (name: string): number => r.clusters.get(name)?.length ?? 0;
  const ranked = [...all].sort(
    (a, b) =>
      Number(isInfraCluster(a)) - Number(isInfraCluster(b)) ||
      hosts(b) - hosts(a) ||
      callsSoFar(r, b) - callsSoFar(r, a) ||
      a.localeCompare(b),
  );
  const [best] = ranked;
  if (best === undefined) throw new UsageError(`grpc-lb watch: Envoy at ${r.admin} has no cluster to watch`);
  return { name: best, by: "picked", all };
}

/** One line saying which cluster a section shows, and how to pick another. */
export function choiceLine(admin: string, c: ClusterChoice): string {
  const others = c.all.filter((n) => n !== c.name);
  const how =
    c.by === "asked"
      ? "as asked"
      : `the one with the most hosts${others.length > 0 ? `; --cluster picks another of ${others.join(", ")}` : ""}`;
  return `Envoy ${admin}: cluster '${c.name}' (${how})`;
}
