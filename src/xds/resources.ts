import type {
  AdsConfigSource,
  ApiListener,
  ClusterLoadAssignment,
  DiscoveredEndpoint,
  EdsCluster,
  ResourceSet,
  RouteConfiguration,
} from "./types.js";
import { protoDuration } from "./types.js";

/** What a nested resource is fetched by: the same ADS stream, xDS v3. */
const ADS: AdsConfigSource = { ads: {}, resource_api_version: "V3" };

/**
 * The endpoints of one service, in one locality of weight 1. The weight is for gRPC's
 * clients, which drop a locality without one; Envoy ignores it without locality-weighted LB.
 */
export function buildAssignment(
  service: string,
  endpoints: readonly DiscoveredEndpoint[],
): ClusterLoadAssignment {
  if (endpoints.length === 0) return { cluster_name: service, endpoints: [] };
  return {
    cluster_name: service,
    endpoints: [
      {
        locality: {},
        load_balancing_weight: { value: 1 },
        lb_endpoints: endpoints.map((e) => ({
          endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          health_status: e.health,
        })),
      },
    ],
  };
}

/**
 * The service's Cluster for xDS clients that take it by CDS (gRPC's): endpoints by EDS on the
 * same stream, round robin, which every xDS client supports. Envoy's own cluster stays in its
 * bootstrap, with its health checks, outlier detection and HTTP/2 options.
 */
export function buildEdsCluster(service: string, connectTimeoutMs: number): EdsCluster {
  return {
    name: service,
    type: "EDS",
    eds_cluster_config: { eds_config: ADS, service_name: service },
    connect_timeout: protoDuration(connectTimeoutMs),
    lb_policy: "ROUND_ROBIN",
  };
}

/** Every call, whatever its authority, to the service's cluster. */
export function buildRouteConfiguration(service: string): RouteConfiguration {
  return {
    name: service,
    virtual_hosts: [
      {
        name: service,
        domains: ["*"],
        routes: [{ match: { prefix: "" }, route: { cluster: service } }],
      },
    ],
  };
}

/** The client-side Listener `xds:///service` resolves to, its routes by RDS on the same stream. */
export function buildApiListener(service: string): ApiListener {
  return {
    name: service,
    api_listener: {
      api_listener: {
        "@type":
          "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        stat_prefix: service,
        rds: { config_source: ADS, route_config_name: service },
        http_filters: [
          {
            name: "envoy.filters.http.router",
            typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
          },
        ],
      },
    },
  };
}

/** The four resources of one service, each named after it. */
export function buildResourceSet(
  service: string,
  endpoints: readonly DiscoveredEndpoint[],
  connectTimeoutMs: number,
): ResourceSet {
  return {
    listener: new Map([[service, buildApiListener(service)]]),
    route: new Map([[service, buildRouteConfiguration(service)]]),
    cluster: new Map([[service, buildEdsCluster(service, connectTimeoutMs)]]),
    endpoint: new Map([[service, buildAssignment(service, endpoints)]]),
  };
}
