import { lbPolicyName, type ResolvedEnvoyConfigOptions } from "./options.js";
import type {
  Bootstrap,
  CaresDnsResolverConfig,
  Cluster,
  Duration,
  Listener,
  SocketAddress,
} from "./types.js";

/** Name of the upstream cluster and of the listener, as Envoy's admin API and stats show them. */
export const CLUSTER_NAME = "server";
export const LISTENER_NAME = "grpc_ingress";

/** Milliseconds as a proto Duration string. */
export const duration = (ms: number): Duration => `${ms / 1000}s`;

const socket = (address: string, port: number): SocketAddress => ({
  socket_address: { address, port_value: port },
});

/**
 * The Envoy v3 bootstrap: one HTTP/2-capable listener routing every gRPC call
 * to cluster "server", whose hosts are all the A records of serverHost.
 */
export function buildBootstrap(o: ResolvedEnvoyConfigOptions): Bootstrap {
  return {
    node: { id: "grpc-lb-envoy", cluster: "grpc-lb" },
    admin: { address: socket("127.0.0.1", o.adminPort) },
    static_resources: { listeners: [buildListener(o)], clusters: [buildCluster(o)] },
    overload_manager: overloadManager(o.maxDownstreamConnections),
  };
}

/** Caps downstream connections; Envoy warns at start-up when no cap is configured. */
export function overloadManager(maxConnections: number): Bootstrap["overload_manager"] {
  return {
    resource_monitors: [
      {
        name: "envoy.resource_monitors.global_downstream_max_connections",
        typed_config: {
          "@type":
            "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
          max_active_downstream_connections: maxConnections,
        },
      },
    ],
  };
}

export function buildListener(o: ResolvedEnvoyConfigOptions): Listener {
  return {
    name: LISTENER_NAME,
    address: socket(o.listenAddress, o.listenPort),
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type":
                "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: LISTENER_NAME,
              // AUTO: gRPC arrives as HTTP/2 with prior knowledge; a stray HTTP/1.1 request still gets an answer.
              codec_type: "AUTO",
              route_config: {
                name: "grpc_routes",
                virtual_hosts: [
                  {
                    name: "grpc",
                    domains: ["*"],
                    routes: [
                      {
                        match: { prefix: "/", grpc: {} },
                        // No route timeout: the client's grpc-timeout header is the deadline, for streams too.
                        route: {
                          cluster: CLUSTER_NAME,
                          timeout: "0s",
                          max_stream_duration: { grpc_timeout_header_max: "0s" },
                        },
                      },
                    ],
                  },
                ],
              },
              http_filters: [
                {
                  name: "envoy.filters.http.router",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

export function buildCluster(o: ResolvedEnvoyConfigOptions): Cluster {
  const resolver: CaresDnsResolverConfig = {
    "@type": "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
    use_resolvers_as_fallback: false,
    // The name is asked exactly as given: no search domains appended behind the user's back.
    dns_resolver_options: {
      use_tcp_for_dns_lookups: false,
      no_default_search_domain: o.dnsResolvers.kind === "servers",
    },
  };
  if (o.dnsResolvers.kind === "servers") {
    resolver.resolvers = o.dnsResolvers.servers.map((s) => socket(s.address, s.port));
  }
  return {
    name: CLUSTER_NAME,
    connect_timeout: duration(o.connectTimeoutMs),
    lb_policy: lbPolicyName(o.policy),
    cluster_type: {
      name: "envoy.clusters.dns",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster",
        dns_refresh_rate: duration(o.dnsRefreshMs),
        respect_dns_ttl: false,
        dns_lookup_family: "V4_ONLY",
        // false: every A record is its own upstream host (STRICT_DNS semantics).
        all_addresses_in_single_endpoint: false,
        typed_dns_resolver_config: { name: "envoy.network.dns_resolver.cares", typed_config: resolver },
      },
    },
    load_assignment: {
      cluster_name: CLUSTER_NAME,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(o.serverHost, o.serverPort) } }] }],
    },
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  };
}
