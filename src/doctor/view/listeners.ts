import type { DumpListener, DumpSections } from "./dump-sections.js";
import { addressText, arr, type Json, obj, str, typeOf } from "./json.js";
import { downstreamTls, type TlsContext } from "./tls.js";

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
  /** A bridge filter that carries its gRPC calls to the servers over HTTP/1.1, by design. */
  bridge?: BridgeFilter;
  /** Its connection manager runs a filter that handles gRPC (grpc_web, a bridge, the JSON transcoder, …). */
  grpcFilter: boolean;
}

export interface ListenerView {
  /** Its name, or its address for a listener that has none (Envoy names those itself). */
  name: string;
  address: string;
  state: DumpListener["state"];
  /** The HTTP connection managers of its filter chains; `place` names one among several ("name[k]"). */
  managers: ManagerView[];
  /** The TCP proxies of its filter chains: the clusters each forwards whole connections to. */
  tcpProxies: { place: string; clusters: string[] }[];
}

/** An HTTP connection manager, its routes, and the filter chain it is in. */
export interface ManagerView {
  place: string;
  config: Json;
  routes: RouteView[];
  /** The filter chain that holds it, as Envoy runs it. */
  chain: Json;
  /** The chain's downstream TLS context, when it terminates TLS. */
  tls: TlsContext | undefined;
}

const TCP_PROXY = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const HCM = [
  "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  "envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager",
];
/** The filters that carry gRPC over HTTP/1.1 to the servers, by their config's message name. */
const BRIDGES = {
  "envoy.extensions.filters.http.grpc_http1_bridge.v3.Config": "grpc_http1_bridge",
  "envoy.extensions.filters.http.grpc_http1_reverse_bridge.v3.FilterConfig": "grpc_http1_reverse_bridge",
} as const;
export type BridgeFilter = (typeof BRIDGES)[keyof typeof BRIDGES];
/** HTTP filters that only make sense in front of gRPC servers. */
const GRPC_FILTERS = [
  ...Object.keys(BRIDGES),
  // Not grpc_web nor grpc_stats: a mesh puts those in every HTTP chain, gRPC or not.
  "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
  "envoy.extensions.filters.http.grpc_field_extraction.v3.GrpcFieldExtractionConfig",
  "envoy.extensions.filters.http.grpc_json_reverse_transcoder.v3.GrpcJsonReverseTranscoder",
];
const ROUTE_FILTER_CONFIG = "envoy.config.route.v3.FilterConfig";
const TYPED_STRUCTS = ["udpa.type.v1.TypedStruct", "xds.type.v3.TypedStruct"];

/** Filters of Envoys before 1.17 that carry an untyped `config`, by their names then. */
const V2_NAMES: Record<string, string> = {
  "envoy.http_connection_manager": HCM[0] as string,
  "envoy.filters.network.http_connection_manager": HCM[0] as string,
  "envoy.grpc_http1_bridge": "envoy.extensions.filters.http.grpc_http1_bridge.v3.Config",
  "envoy.filters.http.grpc_http1_bridge": "envoy.extensions.filters.http.grpc_http1_bridge.v3.Config",
  "envoy.tcp_proxy": "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
  "envoy.grpc_json_transcoder": "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
};

/** A filter's config: typed (unwrapped from a TypedStruct) or, before 1.17, untyped under `config`. */
function configOfFilter(f: Json): { type: string | undefined; config: Json } {
  if (f.typed_config === undefined && f.config !== undefined)
    return { type: V2_NAMES[String(f.name ?? "")], config: obj(f.config) };
  return filterConfig(f.typed_config);
}

/** A filter's typed config, unwrapped from a TypedStruct: its message name and fields. */
function filterConfig(typedConfig: unknown): { type: string | undefined; config: Json } {
  const tc = obj(typedConfig);
  const type = typeOf(tc);
  if (type !== undefined && TYPED_STRUCTS.includes(type))
    return { type: str(tc.type_url)?.replace(/^.*\//, ""), config: obj(tc.value) };
  return { type, config: tc };
}

/** The bridge that runs for this route: on in the chain unless the route or its virtual host turns it off. */
function bridgeOf(httpFilters: Json[], vh: Json, route: Json): BridgeFilter | undefined {
  for (const filter of httpFilters) {
    const type = configOfFilter(filter).type;
    const bridge = type === undefined ? undefined : BRIDGES[type as keyof typeof BRIDGES];
    if (bridge === undefined) continue;
    const name = String(filter.name ?? "");
    const per = obj(route.typed_per_filter_config)[name] ?? obj(vh.typed_per_filter_config)[name];
    const on =
      per === undefined
        ? filter.disabled !== true
        : typeOf(per) === ROUTE_FILTER_CONFIG
          ? obj(per).disabled !== true
          : filterConfig(per).config.disabled !== true;
    if (on) return bridge;
  }
  return undefined;
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
  const grpcFilter = httpFilters.some((f) => GRPC_FILTERS.includes(configOfFilter(f).type ?? ""));
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
      const bridge = bridgeOf(httpFilters, vh, r);
      return [
        {
          where,
          grpc: match.grpc !== undefined || grpcHeader,
          clusters,
          route,
          ...(vh.retry_policy === undefined ? {} : { virtualHostRetry: obj(vh.retry_policy) }),
          ...(bridge === undefined ? {} : { bridge }),
          grpcFilter,
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
  // Each filter chain's manager or proxy; with several chains, its place names the chain too.
  const filters = chains.flatMap((fc, i) =>
    arr(fc.filters).map((f) => ({ ...configOfFilter(f), chain: str(fc.name) ?? String(i), fc })),
  );
  const several =
    filters.filter((f) => f.type === TCP_PROXY || (f.type !== undefined && HCM.includes(f.type))).length > 1;
  const placeOf = (chain: string): string => (several ? `${name}[${chain}]` : name);
  const managers = filters
    .filter((f) => f.type !== undefined && HCM.includes(f.type))
    .map(({ config, chain, fc }): ManagerView => {
      const place = placeOf(chain);
      const httpFilters = arr(config.http_filters);
      return {
        place,
        config,
        routes: routeConfigsOf(config, s, name, note).flatMap((rc) => routesOf(place, rc, httpFilters, note)),
        chain: fc,
        tls: downstreamTls(fc),
      };
    });
  const tcpProxies = filters
    .filter((f) => f.type === TCP_PROXY)
    .map(({ config, chain }) => ({
      place: placeOf(chain),
      clusters:
        config.cluster !== undefined
          ? [String(config.cluster)]
          : arr(obj(config.weighted_clusters).clusters).map((c) => String(c.name ?? "")),
    }));
  return { name, address, state: d.state, managers, tcpProxies };
}
