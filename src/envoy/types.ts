/**
 * The subset of Envoy's v3 API that grpc-envoy-lb generates, as plain typed
 * data. Field names are the proto field names (snake_case), as in Envoy YAML;
 * typed_config objects carry their "@type". Durations are proto JSON strings ("1.5s").
 */

import type { DownstreamTlsContext, TlsTransportSocket, UpstreamTlsContext } from "./tls-types.js";

export type Duration = `${number}s`;

export interface SocketAddress {
  socket_address: { address: string; port_value: number; protocol?: "TCP" | "UDP" };
}

export interface TypedExtension<T extends { "@type": string }> {
  name: string;
  typed_config: T;
}

export interface Router {
  "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
  dynamic_stats?: boolean;
}

export interface RetryPolicy {
  retry_on: string;
  num_retries: number;
  per_try_timeout: Duration;
  retry_back_off: { base_interval: Duration; max_interval: Duration };
  retry_host_predicate: TypedExtension<{
    "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate";
  }>[];
  host_selection_retry_max_attempts: number;
}

export interface Route {
  match: { prefix: string; grpc?: Record<string, never> };
  route: {
    cluster: string;
    timeout: Duration;
    max_stream_duration?: { grpc_timeout_header_max: Duration; max_stream_duration?: Duration };
    retry_policy?: RetryPolicy;
    /** What ring_hash and maglev hash a request on. */
    hash_policy?: { header: { header_name: string } }[];
  };
}

export interface HttpConnectionManager {
  "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  stat_prefix: string;
  codec_type: "AUTO" | "HTTP1" | "HTTP2";
  generate_request_id?: boolean;
  request_headers_timeout: Duration;
  common_http_protocol_options?: { max_connection_duration: Duration };
  drain_timeout?: Duration;
  route_config: {
    name: string;
    virtual_hosts: { name: string; domains: string[]; routes: Route[] }[];
  };
  http_filters: TypedExtension<Router>[];
}

export interface Listener {
  name: string;
  address: SocketAddress;
  filter_chains: {
    filters: TypedExtension<HttpConnectionManager>[];
    transport_socket?: TlsTransportSocket<DownstreamTlsContext>;
  }[];
}

export interface TcpProxy {
  "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
  stat_prefix: string;
  cluster: string;
}

/** An L4 listener: bytes in, bytes out, one upstream host chosen per connection. */
export interface TcpListener {
  name: string;
  address: SocketAddress;
  filter_chains: { filters: TypedExtension<TcpProxy>[] }[];
}

export interface CaresDnsResolverConfig {
  "@type": "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig";
  resolvers?: SocketAddress[];
  use_resolvers_as_fallback: boolean;
  edns0_max_payload_size: number;
  dns_resolver_options: { use_tcp_for_dns_lookups: boolean; no_default_search_domain: boolean };
}

export type DnsLookupFamily = "V4_ONLY" | "V6_ONLY" | "V4_PREFERRED" | "AUTO" | "ALL";

/** envoy.clusters.dns: the current form of STRICT_DNS (all_addresses_in_single_endpoint false). */
export interface DnsCluster {
  "@type": "type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster";
  dns_refresh_rate: Duration;
  dns_failure_refresh_rate: { base_interval: Duration; max_interval: Duration };
  respect_dns_ttl: boolean;
  dns_lookup_family: DnsLookupFamily;
  all_addresses_in_single_endpoint: false;
  typed_dns_resolver_config: TypedExtension<CaresDnsResolverConfig>;
}

export interface HttpProtocolOptions {
  "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  explicit_http_config: { http2_protocol_options: Record<string, never> };
}

export type LbPolicyName = "ROUND_ROBIN" | "LEAST_REQUEST" | "RANDOM" | "RING_HASH" | "MAGLEV";

export interface HealthCheck {
  timeout: Duration;
  interval: Duration;
  no_traffic_interval: Duration;
  unhealthy_threshold: number;
  healthy_threshold: number;
  grpc_health_check: { service_name: string };
  /** ALPN of health-check connections over TLS: they carry none unless it is set here. */
  tls_options?: { alpn_protocols: string[] };
}

export interface OutlierDetection {
  consecutive_5xx: number;
  enforcing_consecutive_5xx: number;
  consecutive_gateway_failure: number;
  enforcing_consecutive_gateway_failure: number;
  split_external_local_origin_errors: boolean;
  consecutive_local_origin_failure: number;
  enforcing_consecutive_local_origin_failure: number;
  enforcing_success_rate: number;
  enforcing_local_origin_success_rate: number;
  enforcing_failure_percentage: number;
  enforcing_failure_percentage_local_origin: number;
  interval: Duration;
  base_ejection_time: Duration;
  max_ejection_percent: number;
}

export interface Cluster {
  name: string;
  connect_timeout: Duration;
  lb_policy: LbPolicyName;
  cluster_type: TypedExtension<DnsCluster>;
  common_lb_config: { update_merge_window: Duration; healthy_panic_threshold?: { value: number } };
  circuit_breakers?: {
    thresholds: {
      priority: "DEFAULT";
      retry_budget: { budget_percent: { value: number }; min_retry_concurrency: number };
    }[];
  };
  health_checks?: HealthCheck[];
  ignore_health_on_host_removal?: boolean;
  outlier_detection?: OutlierDetection;
  /** per_endpoint_stats: each host's counters in /stats and /stats/prometheus, labelled by its address. */
  track_cluster_stats?: { per_endpoint_stats: boolean };
  load_assignment: {
    cluster_name: string;
    endpoints: { lb_endpoints: { endpoint: { address: SocketAddress } }[] }[];
  };
  typed_extension_protocol_options: {
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": HttpProtocolOptions;
  };
  transport_socket?: TlsTransportSocket<UpstreamTlsContext>;
}

/** An HTTP/1.1 health check: a host is healthy while GET `path` answers 200. */
export interface HttpHealthCheck {
  timeout: Duration;
  interval: Duration;
  no_traffic_interval: Duration;
  unhealthy_threshold: number;
  healthy_threshold: number;
  http_health_check: { path: string };
}

/** A cluster with a fixed list of hosts. */
export interface StaticCluster {
  name: string;
  type: "STATIC";
  connect_timeout: Duration;
  lb_policy: LbPolicyName;
  health_checks?: HttpHealthCheck[];
  load_assignment: {
    cluster_name: string;
    endpoints: {
      lb_endpoints: {
        endpoint: { address: SocketAddress; health_check_config?: { port_value: number } };
      }[];
    }[];
  };
}

export interface DownstreamConnectionsConfig {
  "@type": "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig";
  max_active_downstream_connections: number;
}

/** A static bootstrap; the gRPC balancer's by default, or another's (the L4 proxy's) by its listener and cluster types. */
export interface Bootstrap<L = Listener, C = Cluster> {
  node: { id: string; cluster: string };
  admin: { address: SocketAddress };
  /** With EDS: the ADS stream the EDS cluster's hosts come on. */
  dynamic_resources?: { ads_config: AdsApiConfigSource };
  static_resources: { listeners: L[]; clusters: C[] };
  overload_manager: { resource_monitors: TypedExtension<DownstreamConnectionsConfig>[] };
}

/** config.core.v3.ApiConfigSource of an ADS stream, over Envoy's own gRPC client to a static cluster. */
export interface AdsApiConfigSource {
  api_type: "GRPC";
  transport_api_version: "V3";
  grpc_services: { envoy_grpc: { cluster_name: string } }[];
  set_node_on_first_message_only: boolean;
}

/** The gRPC balancer's cluster with its hosts by EDS over ADS, in place of DNS. */
export type EdsCluster = Omit<Cluster, "cluster_type" | "load_assignment"> & {
  type: "EDS";
  eds_cluster_config: {
    service_name: string;
    eds_config: { ads: Record<string, never>; resource_api_version: "V3"; initial_fetch_timeout: Duration };
  };
};

/** The xDS server's cluster: one fixed address, or a name resolved as the servers' is; HTTP/2 (gRPC). */
export type XdsServerCluster = ({ type: "STATIC" } | { cluster_type: TypedExtension<DnsCluster> }) & {
  name: string;
  connect_timeout: Duration;
  load_assignment: {
    cluster_name: string;
    endpoints: { lb_endpoints: { endpoint: { address: SocketAddress } }[] }[];
  };
  typed_extension_protocol_options: {
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": HttpProtocolOptions;
  };
};
