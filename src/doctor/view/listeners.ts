import type { DumpListener, DumpSections } from "./dump-sections.js";
import { addressText, arr, type Json, obj, str, typeOf } from "./json.js";

/** One route of an HTTP connection manager, with where it sends calls. */
export interface RouteView {
  /** "listener/virtual host/#index", for findings. */
  where: string;
  /** The route matches gRPC (a `grpc: {}` match or a content-type application/grpc header). */
  grpc: boolean;
  /** The clusters it may send a call to (none for a cluster picked from a header or by a plugin). */
  clusters: string[];
  route: Json;
  /** The virtual host's retry policy, which applies when the route has none. */
  virtualHostRetry?: Json;
  /** grpc_http1_reverse_bridge turns its gRPC calls into HTTP/1.1 requests to the servers, by design. */
  reverseBridged: boolean;
}

export interface ListenerView {
  /** Its name, or its address for a listener that has none (Envoy names those itself). */
  name: string;
  address: string;
  state: DumpListener["state"];
  /** The HTTP connection managers of its filter chains. */
  managers: { config: Json; routes: RouteView[] }[];
}

const HCM = [
  "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  "envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager",
];
const REVERSE_BRIDGE = "envoy.extensions.filters.http.grpc_http1_reverse_bridge.v3.FilterConfig";
const ROUTE_FILTER_CONFIG = "envoy.config.route.v3.FilterConfig";
const TYPED_STRUCTS = ["udpa.type.v1.TypedStruct", "xds.type.v3.TypedStruct"];

/** A filter's config, unwrapped from a TypedStruct: its message name and fields. */
function filterConfig(typedConfig: unknown): { type: string | undefined; config: Json } {
  const tc = obj(typedConfig);
  const type = typeOf(tc);
  if (type !== undefined && TYPED_STRUCTS.includes(type))
    return { type: str(tc.type_url)?.replace(/^.*\//, ""), config: obj(tc.value) };
  return { type, config: tc };
}

/** Whether the reverse bridge runs for this route: on in the chain unless the route or its virtual host turns it off. */
function reverseBridged(httpFilters: Json[], vh: Json, route: Json): boolean {
  const filter = httpFilters.find((f) => filterConfig(f.typed_config).type === REVERSE_BRIDGE);
  if (filter === undefined) return false;
  const name = String(filter.name ?? "");
  const per = obj(route.typed_per_filter_config)[name] ?? obj(vh.typed_per_filter_config)[name];
  if (per === undefined) return filter.disabled !== true;
  const wrapped = obj(per);
  if (typeOf(wrapped) === ROUTE_FILTER_CONFIG) return wrapped.disabled !== true;
  return filterConfig(per).config.disabled !== true;
}

/** Where a route sends calls; undefined when it forwards nothing (a redirect, a direct response). */
function clustersOf(route: Json, note: (text: string) => void, where: string): string[] | undefined {
  if (route.cluster !== undefined) return [String(route.cluster)];
  if (route.weighted_clusters !== undefined) {
    const entries = arr(obj(route.weighted_clusters).clusters);
    for (const e of entries)
      if (e.cluster_header !== undefined)
        note(`route ${where}: a weighted cluster is named by header ${String(e.cluster_header)}; not judged`);
    return entries.flatMap((e) => (e.name === undefined ? [] : [String(e.name)]));
  }
  if (route.cluster_header !== undefined) {
    note(
      `route ${where}: the cluster is named by request header ${String(route.cluster_header)}; not judged`,
    );
    return [];
  }
  if (route.cluster_specifier_plugin !== undefined || route.inline_cluster_specifier_plugin !== undefined) {
    note(`route ${where}: a cluster specifier plugin picks the cluster; not judged`);
    return [];
  }
  return undefined;
}

function routesOf(
  listener: string,
  rc: Json,
  httpFilters: Json[],
  note: (text: string) => void,
): RouteView[] {
  if (rc.vhds !== undefined)
    note(
      `route configuration ${String(rc.name ?? "")}: virtual hosts come by VHDS; only those loaded now were checked`,
    );
  return arr(rc.virtual_hosts).flatMap((vh) =>
    arr(vh.routes).flatMap((r, i): RouteView[] => {
      const where = `${listener}/${String(vh.name ?? "")}/#${i}`;
      if (r.route === undefined) return [];
      const route = obj(r.route);
      const clusters = clustersOf(route, note, where);
      if (clusters === undefined) return [];
      const match = obj(r.match);
      const grpcHeader = arr(match.headers).some(
        (h) =>
          str(h.name)?.toLowerCase() === "content-type" && JSON.stringify(h).includes("application/grpc"),
      );
      return [
        {
          where,
          grpc: match.grpc !== undefined || grpcHeader,
          clusters,
          route,
          ...(vh.retry_policy === undefined ? {} : { virtualHostRetry: obj(vh.retry_policy) }),
          reverseBridged: reverseBridged(httpFilters, vh, r),
        },
      ];
    }),
  );
}

/** The route configurations an HTTP connection manager uses: inline, by RDS, or one per scope (SRDS). */
function routeConfigsOf(hcm: Json, s: DumpSections, label: string, note: (text: string) => void): Json[] {
  if (hcm.route_config !== undefined) return [obj(hcm.route_config)];
  if (hcm.rds !== undefined) {
    const name = String(obj(hcm.rds).route_config_name ?? "");
    const rc = s.routeConfigs.get(name);
    if (rc === undefined)
      note(`listener ${label}: route configuration '${name}' (RDS) is not in the dump yet`);
    return rc === undefined ? [] : [rc];
  }
  if (hcm.scoped_routes !== undefined) {
    const sr = obj(hcm.scoped_routes);
    const inline = arr(obj(sr.scoped_route_configurations_list).scoped_route_configurations);
    const scopes = inline.length > 0 ? inline : (s.scopedRouteSets.get(String(sr.name ?? "")) ?? []);
    if (scopes.length === 0)
      note(`listener ${label}: scoped routes '${String(sr.name ?? "")}' have no scope yet`);
    return scopes.flatMap((scope) => {
      if (scope.route_configuration !== undefined) return [obj(scope.route_configuration)];
      const rc = s.routeConfigs.get(String(scope.route_configuration_name ?? ""));
      if (rc === undefined && scope.on_demand !== true)
        note(`listener ${label}: scope ${String(scope.name ?? "")}'s routes are not in the dump yet`);
      return rc === undefined ? [] : [rc];
    });
  }
  return [];
}

/** A listener's HTTP connection managers and their routes, across every filter chain and the default one. */
export function listenerView(d: DumpListener, s: DumpSections, note: (text: string) => void): ListenerView {
  const l = d.listener;
  const address = addressText(l.address);
  const name = str(l.name) ?? address;
  const chains = [
    ...arr(l.filter_chains),
    ...(l.default_filter_chain === undefined ? [] : [obj(l.default_filter_chain)]),
  ];
  const hcms = chains
    .flatMap((fc) => arr(fc.filters))
    .map((f) => filterConfig(f.typed_config))
    .filter((f) => f.type !== undefined && HCM.includes(f.type));
  // Several managers in one listener: each route's place names its filter chain too.
  const managers = hcms.map(({ config }, k) => {
    const place = hcms.length > 1 ? `${name}[${k}]` : name;
    const httpFilters = arr(config.http_filters);
    return {
      config,
      routes: routeConfigsOf(config, s, name, note).flatMap((rc) => routesOf(place, rc, httpFilters, note)),
    };
  });
  return { name, address, state: d.state, managers };
}
