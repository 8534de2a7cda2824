import type { ClusterView, EnvoyView, RouteView } from "./envoy-view.js";

/** What the checks look at: the routes that carry gRPC and the clusters they send it to. */
export interface Scope {
  view: EnvoyView;
  routes: RouteView[];
  clusters: ClusterView[];
  /** The routes that may send calls to a cluster in scope, through an aggregate cluster too. */
  routesTo(cluster: string): RouteView[];
  /** No route says it matches gRPC, so routed clusters were taken as gRPC. */
  guessed: boolean;
  /** What the choice of scope left out or could not judge, one line each. */
  notes: string[];
}

/** A cluster speaks HTTP/2 to its servers or health-checks them with gRPC: it looks like a gRPC service. */
const looksGrpc = (c: ClusterView): boolean =>
  c.upstream === "http2" ||
  (Array.isArray(c.config.health_checks) &&
    (c.config.health_checks as Record<string, unknown>[]).some((h) => h.grpc_health_check !== undefined));

/**
 * The clusters that routes send gRPC to: those of routes matching `grpc: {}` or content-type
 * application/grpc. When no route says so, every routed cluster that looks like gRPC (HTTP/2 to
 * its servers, or a gRPC health check), or every routed cluster when none does. Aggregate clusters
 * bring the clusters they try. `cluster` narrows it to one cluster (which need not be routed).
 * Undefined when the named cluster does not exist.
 */
export function scopeOf(view: EnvoyView, cluster?: string): Scope | undefined {
  const notes: string[] = [];
  if (cluster !== undefined && !view.clusters.has(cluster)) return undefined;
  const all = view.listeners.flatMap((l) => l.managers.flatMap((m) => m.routes));
  const marked = all.filter((r) => r.grpc);
  const guessed = marked.length === 0;
  const candidates = guessed ? all : marked;

  // The clusters a route reaches: its own, and those its aggregate clusters try, transitively.
  const reach = (names: readonly string[], seen = new Set<string>()): string[] => {
    for (const n of names) {
      if (seen.has(n)) continue;
      seen.add(n);
      reach(view.clusters.get(n)?.children ?? [], seen);
    }
    return [...seen];
  };
  const reached = new Map(candidates.map((r) => [r, reach(r.clusters)]));
  const routed = [...new Set([...reached.values()].flat())].flatMap((n) => view.clusters.get(n) ?? []);
  for (const n of new Set([...reached.values()].flat()))
    if (!view.clusters.has(n)) notes.push(`cluster ${n}: routed to, but not in this Envoy's configuration`);

  let clusters: ClusterView[];
  if (cluster !== undefined)
    clusters = view.clusters.get(cluster) === undefined ? [] : [view.clusters.get(cluster) as ClusterView];
  else if (!guessed) clusters = routed;
  else {
    const grpcLike = routed.filter((c) => looksGrpc(c) || c.kind === "AGGREGATE");
    clusters = grpcLike.some((c) => c.kind !== "AGGREGATE") ? grpcLike : routed;
    if (clusters.length < routed.length)
      notes.push(
        `no route marks gRPC (grpc: {} or content-type application/grpc): checked the ${clusters.length} of ${routed.length} routed clusters that speak HTTP/2 or health-check with gRPC; name another with --cluster`,
      );
  }
  const names = new Set(clusters.map((c) => c.name));
  const routes = candidates.filter((r) => (reached.get(r) ?? []).some((n) => names.has(n)));
  return {
    view,
    routes,
    clusters,
    routesTo: (name) => routes.filter((r) => (reached.get(r) ?? []).includes(name)),
    guessed,
    notes,
  };
}
