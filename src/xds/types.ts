/**
 * The xDS server's data: the resource types it serves, the endpoints a source
 * gives it, and the resources as typed values in proto field names (snake_case),
 * encoded only at the edge (protos.ts). Durations are proto Duration objects.
 */

/** Listener (LDS), RouteConfiguration (RDS), Cluster (CDS), ClusterLoadAssignment (EDS). */
export const RESOURCE_TYPES = ["listener", "route", "cluster", "endpoint"] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** Short names, as logs and metrics say them. */
export const TYPE_LABELS: Record<ResourceType, string> = {
  listener: "LDS",
  route: "RDS",
  cluster: "CDS",
  endpoint: "EDS",
};

/**
 * An endpoint's health as Envoy's EDS says it. HEALTHY takes calls; DRAINING takes none
 * (Envoy treats it as unhealthy, gRPC clients skip it) while the server finishes its calls.
 */
export type EndpointHealth = "HEALTHY" | "DRAINING";

/** One server of a service, as a source reports it. */
export interface DiscoveredEndpoint {
  /** An IP literal: gRPC's xDS clients accept no host names. */
  address: string;
  port: number;
  health: EndpointHealth;
}

export interface ProtoDuration {
  seconds: number;
  nanos: number;
}

/** Milliseconds as a proto Duration object. */
export const protoDuration = (ms: number): ProtoDuration => ({
  seconds: Math.floor(ms / 1000),
  nanos: Math.round((ms % 1000) * 1e6),
});

/** config.core.v3.ConfigSource pointing at the ADS stream the resource came on. */
export interface AdsConfigSource {
  ads: Record<string, never>;
  resource_api_version: "V3";
}

export interface ClusterLoadAssignment {
  cluster_name: string;
  endpoints: {
    // gRPC's clients drop a locality without a weight; Envoy does not need one.
    locality: Record<string, never>;
    load_balancing_weight: { value: number };
    lb_endpoints: {
      endpoint: { address: { socket_address: { address: string; port_value: number } } };
      health_status: EndpointHealth;
    }[];
  }[];
}

export interface EdsCluster {
  name: string;
  type: "EDS";
  eds_cluster_config: { eds_config: AdsConfigSource; service_name: string };
  connect_timeout: ProtoDuration;
  lb_policy: "ROUND_ROBIN";
}

export interface RouteConfiguration {
  name: string;
  virtual_hosts: {
    name: string;
    domains: string[];
    routes: { match: { prefix: string }; route: { cluster: string } }[];
  }[];
}

/** A client-side Listener (api_listener): what gRPC's xDS clients resolve `xds:///name` to. */
export interface ApiListener {
  name: string;
  api_listener: {
    api_listener: {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
      stat_prefix: string;
      rds: { config_source: AdsConfigSource; route_config_name: string };
      http_filters: {
        name: string;
        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" };
      }[];
    };
  };
}

/** The resources of each type by name: what the server serves at one moment. */
export type ResourceSet = { [T in ResourceType]: ReadonlyMap<string, object> };
