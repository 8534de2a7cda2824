import type { ClusterView, EnvoyView, RouteView } from "./envoy-view.js";

/** What the checks look at: the routes that carry gRPC and the clusters they send it to. */
export interface Scope {
  view: EnvoyView;
  routes: RouteView[];
  clusters: ClusterView[];
  /** The routes of each cluster in scope. */
  routesTo(cluster: string): RouteView[];
  /** No route says it matches gRPC, so every routed cluster is taken as gRPC. */
  guessed: boolean;
}

/**
 * The clusters that routes send gRPC to: routes matching `grpc: {}` or content-type
 * application/grpc; when none does, every route. `cluster` narrows it to one cluster (which
 * need not be routed). Undefined when the named cluster does not exist.
 */
export function scopeOf(view: EnvoyView, cluster?: string): Scope | undefined {
  const all = view.listeners.flatMap((l) => l.managers.flatMap((m) => m.routes));
  const marked = all.filter((r) => r.grpc);
  const guessed = marked.length === 0;
  const routes = (guessed ? all : marked).filter(
    (r) => cluster === undefined || r.clusters.includes(cluster),
  );
  const names =
    cluster === undefined
      ? [...new Set(routes.flatMap((r) => r.clusters))]
      : view.clusters.has(cluster)
        ? [cluster]
        : [];
  if (cluster !== undefined && names.length === 0) return undefined;
  const clusters = names.flatMap((n) => {
    const c = view.clusters.get(n);
    return c === undefined ? [] : [c];
  });
  return {
    view,
    routes,
    clusters,
    routesTo: (name) => routes.filter((r) => r.clusters.includes(name)),
    guessed,
  };
}
