import type { ClusterView, Json, ManagerView, RouteView } from "../envoy-view.js";
import type { Finding } from "../finding.js";
import type { Scope } from "../scope.js";
import { obj } from "../view/json.js";

/** One check: an id that names it in findings, a title for --help and the docs, what it does. */
export interface Check {
  id: string;
  title: string;
  /**
   * Its errors hold only if the clusters carry gRPC: when nothing in the configuration says
   * they do, they are reported as warnings.
   */
  assumesGrpc?: boolean;
  run(scope: Scope): Finding[];
}

/** The check, its errors held for gRPC only (see Check.assumesGrpc). */
export const assumingGrpc = (c: Check): Check => ({ ...c, assumesGrpc: true });

/** A finding as a check writes it: the check's id is added by the check itself. */
export type Draft = Omit<Finding, "check">;

/** A check over the whole scope; each of its findings carries its id. */
export const check = (id: string, title: string, run: (scope: Scope) => Draft[]): Check => ({
  id,
  title,
  run: (scope) => run(scope).map((f) => ({ check: id, ...f })),
});

/** A check of each cluster in scope. */
export const perCluster = (
  id: string,
  title: string,
  run: (c: ClusterView, scope: Scope) => Draft | undefined,
): Check => check(id, title, (scope) => scope.clusters.flatMap((c) => run(c, scope) ?? []));

/** A check of each route in scope. */
export const perRoute = (id: string, title: string, run: (r: RouteView) => Draft | undefined): Check =>
  check(id, title, (scope) => scope.routes.flatMap((r) => run(r) ?? []));

/** The HTTP connection managers that hold the routes in scope, once each. */
export function managersInScope(scope: Scope): ManagerView[] {
  return scope.view.listeners.flatMap((l) =>
    l.managers.filter((m) => m.routes.some((r) => scope.routes.includes(r))),
  );
}

/** A check of each HTTP connection manager that holds a route in scope. */
export const perManager = (
  id: string,
  title: string,
  run: (place: string, hcm: Json) => Draft | undefined,
): Check => check(id, title, (scope) => managersInScope(scope).flatMap((m) => run(m.place, m.config) ?? []));

/** The cluster picks among hosts it knows (an aggregate, the dynamic forward proxy and ORIGINAL_DST take them per request). */
export const choosesAmongHosts = (c: ClusterView): boolean =>
  c.kind !== "AGGREGATE" && c.kind !== "DYNAMIC_FORWARD_PROXY" && c.kind !== "ORIGINAL_DST";

/** Whether a cluster's host count means something: /clusters has it, and it chooses among those hosts. */
export const hostsJudged = (c: ClusterView): boolean => c.hostsKnown && choosesAmongHosts(c);

/** A finding about one cluster, its fix merged into that cluster. */
export function about(c: ClusterView, f: Omit<Draft, "subject" | "fix"> & { patch?: Json }): Draft {
  const { patch, ...rest } = f;
  return {
    ...rest,
    subject: `cluster ${c.name}`,
    ...(patch === undefined ? {} : { fix: { target: { kind: "cluster", name: c.name }, patch } }),
  };
}

/** A finding about one route, its fix merged into its route action. */
export const routeFinding = (r: RouteView, f: Omit<Draft, "subject" | "fix">, patch: Json): Draft => ({
  ...f,
  subject: `route ${r.where}`,
  fix: { target: { kind: "route", where: r.where }, patch },
});

/** A finding about a listener's HTTP connection manager (by its place), its fix merged there. */
export const managerFinding = (place: string, f: Omit<Draft, "subject" | "fix">, patch: Json): Draft => ({
  ...f,
  subject: `listener ${place}`,
  fix: { target: { kind: "manager", listener: place }, patch },
});

/** A finding about the filter chain of a listener's HTTP connection manager (by its place), its fix merged there. */
export const chainFinding = (
  place: string,
  f: Omit<Draft, "subject" | "fix">,
  patch: Json,
  files?: { path: string; content: Json }[],
): Draft => ({
  ...f,
  subject: `listener ${place} filter chain`,
  fix: { target: { kind: "filter-chain", listener: place }, patch, ...(files ? { files } : {}) },
});

/** The route's retry policy, or its virtual host's when it has none. */
export const retryOf = (r: RouteView): Json | undefined =>
  r.route.retry_policy !== undefined ? obj(r.route.retry_policy) : r.virtualHostRetry;

/** The cluster's outlier detection, when it has one. */
export const outlierOf = (c: ClusterView): Json | undefined =>
  c.config.outlier_detection === undefined ? undefined : obj(c.config.outlier_detection);

/** The DNS settings' patch, where this cluster keeps them (DnsCluster's typed config, or the legacy fields). */
export const dnsPatch = (c: ClusterView, fields: Json): Json =>
  obj(c.config.cluster_type).name === undefined ? fields : { cluster_type: { typed_config: fields } };

/** The active health check this project uses: gRPC's own health service. */
export const GRPC_HEALTH_CHECK = {
  timeout: "1s",
  interval: "5s",
  unhealthy_threshold: 2,
  healthy_threshold: 1,
  grpc_health_check: {},
};
