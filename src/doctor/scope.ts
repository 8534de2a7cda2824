import type { ClusterView, EnvoyView, RouteView } from "./envoy-view.js";
import { listOf } from "./list-of.js";
import { endpointAddresses } from "./view/clusters.js";
import { obj } from "./view/json.js";

/** What the checks look at: the routes that carry gRPC and the clusters they send it to. */
export interface Scope {
  view: EnvoyView;
  routes: RouteView[];
  clusters: ClusterView[];
  /** The routes that may send calls to a cluster in scope, through an aggregate cluster too. */
  routesTo(cluster: string): RouteView[];
  /** No route says it matches gRPC, so routed clusters were taken as gRPC. */
  guessed: boolean;
  /**
   * What says the clusters in scope carry gRPC: routes that match it; gRPC filters, HTTP/2 or
   * gRPC health checks; or nothing at all (every routed cluster checked as if it did).
   */
  evidence: "marked" | "likely" | "none";
  /** What the choice of scope left out or could not judge, one line each. */
  notes: string[];
  /** The cluster --cluster named, if any. */
  named: string | undefined;
  /** A cluster of at most one endpoint on this host: nothing to balance. */
  localOnly(c: ClusterView): boolean;
  /** A cluster that speaks HTTP/2 to its servers or health-checks them with gRPC. */
  looksGrpc(c: ClusterView): boolean;
}

/** Loopback addresses, written as IPs (a name such as localhost in an example stands for a server). */
const LOCAL = /^(127\.\d+\.\d+\.\d+|::1)$/;

/**
 * A cluster of at most one endpoint on this host (a sidecar's own app, Envoy's admin or stats
 * behind a listener): nothing to balance.
 */
function localOnly(c: ClusterView): boolean {
  if (c.kind !== "STATIC" && c.kind !== "STRICT_DNS" && c.kind !== "LOGICAL_DNS") return false;
  const addresses = endpointAddresses(c.config);
  return (
    addresses.length === 1 &&
    addresses.every((a) => a.pipe !== undefined || LOCAL.test(String(obj(a.socket_address).address ?? "")))
  );
}

/** A cluster speaks HTTP/2 to its servers or health-checks them with gRPC: it looks like a gRPC service. */
const looksGrpc = (c: ClusterView): boolean =>
  c.upstream === "http2" ||
  (Array.isArray(c.config.health_checks) &&
    (c.config.health_checks as Record<string, unknown>[]).some((h) => h.grpc_health_check !== undefined));

/**
 * The clusters that routes send gRPC to: those of routes matching `grpc: {}` or content-type
 * application/grpc. When no route says so, every routed cluster that is likely gRPC (reached
 * through a gRPC filter, HTTP/2 to its servers, or a gRPC health check), or every routed cluster
 * when none is. Aggregate clusters bring the clusters they try. `cluster` names the one cluster
 * to check (which need not be routed). Undefined when the named cluster does not exist.
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
  let evidence: Scope["evidence"] = guessed ? "none" : "marked";
  const named = cluster === undefined ? undefined : view.clusters.get(cluster);
  if (named !== undefined) {
    // Naming a cluster says it carries gRPC.
    clusters = [named];
    evidence = "marked";
  } else if (!guessed) clusters = routed;
  else {
    // Clusters reached by a route whose manager handles gRPC, or that look like gRPC themselves.
    const byFilter = new Set(candidates.filter((r) => r.grpcFilter).flatMap((r) => reached.get(r) ?? []));
    const likely = routed.filter((c) => byFilter.has(c.name) || looksGrpc(c));
    if (likely.some((c) => c.kind !== "AGGREGATE")) {
      evidence = "likely";
      clusters = routed.filter(
        (c) =>
          likely.includes(c) ||
          (c.kind === "AGGREGATE" && reach([c.name]).some((n) => likely.some((l) => l.name === n))),
      );
    } else clusters = routed;
    if (evidence === "likely" && clusters.length < routed.length)
      notes.push(
        `no route marks gRPC (grpc: {} or content-type application/grpc): checked the ${clusters.length} of ${routed.length} routed clusters that a gRPC filter reaches, that speak HTTP/2 or that health-check with gRPC; name another with --cluster`,
      );
  }
  if (named === undefined) {
    // Envoy's own admin behind a listener is never a service. A local app is left out when there
    // are other clusters to check or nothing says it is gRPC (a sidecar's app, an agent's health
    // port), and is the subject when it is all Envoy routes gRPC to.
    const adminPort = /:(\d+)$/.exec(view.adminAddress)?.[1];
    const local = clusters.filter(localOnly);
    const admin = local.filter(
      (c) => String(obj(endpointAddresses(c.config)[0]?.socket_address).port_value) === adminPort,
    );
    const left = local.length < clusters.length || evidence === "none" ? local : admin;
    if (left.length > 0) {
      clusters = clusters.filter((c) => !left.includes(c));
      notes.push(
        `one endpoint on the same host, nothing to balance: ${listOf(left.map((c) => c.name))} (${left.every((c) => admin.includes(c)) ? "Envoy's own admin" : "a sidecar's own app, or Envoy's own admin or stats"})`,
      );
    }
  }
  if (evidence === "none" && clusters.length > 0)
    notes.push(
      "nothing in this configuration says it carries gRPC (no route matches gRPC, no gRPC filter, no HTTP/2 to a server, no gRPC health check): every routed cluster was checked as if it did, and what would be an error for gRPC is a warning",
    );
  const names = new Set(clusters.map((c) => c.name));
  const routes = candidates.filter((r) => (reached.get(r) ?? []).some((n) => names.has(n)));
  for (const c of clusters) {
    const to = routes.filter((r) => (reached.get(r) ?? []).includes(c.name));
    const bridges = [...new Set(to.map((r) => r.bridge))];
    if (c.upstream === "http1" && to.length > 0 && bridges.every((b) => b !== undefined))
      notes.push(
        `cluster ${c.name}: gRPC reaches it over HTTP/1.1 through ${bridges.join(" and ")}, by design`,
      );
  }
  return {
    view,
    routes,
    clusters,
    routesTo: (name) => routes.filter((r) => (reached.get(r) ?? []).includes(name)),
    guessed,
    evidence,
    notes,
    named: cluster,
    localOnly,
    looksGrpc,
  };
}
