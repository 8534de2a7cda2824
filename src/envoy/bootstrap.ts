import { dnsClusterType } from "./dns-cluster.js";
import { duration, socket } from "./fields.js";
import {
  ENVOY_DRAIN_TIMEOUT_MS,
  isHashPolicy,
  lbPolicyName,
  type ResolvedEnvoyConfigOptions,
  type RetryOptions,
  upstreamTlsOf,
} from "./options.js";
import { downstreamTls, UPSTREAM_ALPN, upstreamTls } from "./tls.js";
import type { Bootstrap, Cluster, Listener, RetryPolicy } from "./types.js";

/** Name of the upstream cluster and of the listener, as Envoy's admin API and stats show them. */
export const CLUSTER_NAME = "server";
export const LISTENER_NAME = "grpc_ingress";

export { duration, socket } from "./fields.js";

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
              // No x-request-id: nothing here traces or logs by it, and a UUID per call is CPU (Envoy's own
              // benchmarking advice). A user who traces turns it back on.
              generate_request_id: false,
              // A peer that never finishes its headers must not hold a connection forever.
              request_headers_timeout: duration(o.requestHeadersTimeoutMs),
              // Written only when set, so configs that keep Envoy's defaults stay as they were.
              ...(o.maxConnectionDurationMs > 0
                ? {
                    common_http_protocol_options: {
                      max_connection_duration: duration(o.maxConnectionDurationMs),
                    },
                  }
                : {}),
              ...(o.drainTimeoutMs === ENVOY_DRAIN_TIMEOUT_MS
                ? {}
                : { drain_timeout: duration(o.drainTimeoutMs) }),
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
                          max_stream_duration: {
                            grpc_timeout_header_max: "0s",
                            ...(o.maxStreamDurationMs > 0
                              ? { max_stream_duration: duration(o.maxStreamDurationMs) }
                              : {}),
                          },
                          ...(o.retry === false ? {} : { retry_policy: buildRetryPolicy(o.retry) }),
                          ...(isHashPolicy(o.policy)
                            ? { hash_policy: [{ header: { header_name: o.hashHeader } }] }
                            : {}),
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
                    // No per-status-code stat lookups on every call; hosts' rq_success/rq_error stay.
                    dynamic_stats: false,
                  },
                },
              ],
            },
          },
        ],
        ...(o.tls === false ? {} : { transport_socket: downstreamTls(o.tls) }),
      },
    ],
  };
}

export function buildCluster(o: ResolvedEnvoyConfigOptions): Cluster {
  const upstream = upstreamTlsOf(o.tls);
  return {
    name: CLUSTER_NAME,
    connect_timeout: duration(o.connectTimeoutMs),
    lb_policy: lbPolicyName(o.policy),
    common_lb_config: {
      update_merge_window: duration(o.updateMergeWindowMs),
      // Only when not Envoy's default (50), so configs that keep it stay as they were.
      ...(o.healthyPanicThresholdPercent === 50
        ? {}
        : { healthy_panic_threshold: { value: o.healthyPanicThresholdPercent } }),
    },
    cluster_type: dnsClusterType(o.dnsRefreshMs, o.dnsResolvers),
    ...(o.healthCheck === false
      ? {}
      : {
          health_checks: [
            {
              timeout: duration(o.healthCheck.timeoutMs),
              interval: duration(o.healthCheck.intervalMs),
              no_traffic_interval: duration(o.healthCheck.intervalMs),
              unhealthy_threshold: o.healthCheck.unhealthyThreshold,
              healthy_threshold: o.healthCheck.healthyThreshold,
              // The server-wide status ("") turns NOT_SERVING as soon as a server starts to drain.
              grpc_health_check: { service_name: "" },
              ...(upstream === false ? {} : { tls_options: { alpn_protocols: UPSTREAM_ALPN } }),
            },
          ],
        }),
    ...(o.retry === false
      ? {}
      : {
          circuit_breakers: {
            thresholds: [
              {
                priority: "DEFAULT",
                retry_budget: {
                  budget_percent: { value: o.retry.budgetPercent },
                  min_retry_concurrency: o.retry.minRetryConcurrency,
                },
              },
            ],
          },
        }),
    // Without this, a host that left DNS stays while it passes health checks.
    ignore_health_on_host_removal: true,
    ...(o.outlierDetection === false
      ? {}
      : {
          outlier_detection: {
            // Only failures of the server or the network eject. split: connect failures, resets and
            // timeouts (local origin) are counted apart from what the server answers (external origin).
            split_external_local_origin_errors: true,
            consecutive_local_origin_failure: o.outlierDetection.consecutiveLocalFailures,
            enforcing_consecutive_local_origin_failure: 100,
            // 502/503/504: gRPC UNAVAILABLE or DEADLINE_EXCEEDED from the server, the server's own trouble.
            consecutive_gateway_failure: o.outlierDetection.consecutiveGatewayFailures,
            enforcing_consecutive_gateway_failure: 100,
            // Any other 5xx is what a server answers a client's own mistake (UNIMPLEMENTED is 501,
            // INTERNAL and UNKNOWN are 500): counted and reported (ejections_detected_*), never enforced.
            // The statistical detectors are off too: one client's bad calls skew one host's rates.
            consecutive_5xx: o.outlierDetection.consecutiveGatewayFailures,
            enforcing_consecutive_5xx: 0,
            enforcing_success_rate: 0,
            enforcing_local_origin_success_rate: 0,
            enforcing_failure_percentage: 0,
            enforcing_failure_percentage_local_origin: 0,
            interval: duration(o.outlierDetection.intervalMs),
            base_ejection_time: duration(o.outlierDetection.baseEjectionMs),
            max_ejection_percent: o.outlierDetection.maxEjectionPercent,
          },
        }),
    // Requests, errors and connections per host, in /stats and /stats/prometheus.
    track_cluster_stats: { per_endpoint_stats: true },
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
    ...(upstream === false ? {} : { transport_socket: upstreamTls(upstream, o.serverHost) }),
  };
}

export function buildRetryPolicy(r: RetryOptions): RetryPolicy {
  return {
    retry_on: r.retryOn.join(","),
    num_retries: r.numRetries,
    per_try_timeout: duration(r.perTryTimeoutMs),
    retry_back_off: { base_interval: duration(r.backoffBaseMs), max_interval: duration(r.backoffMaxMs) },
    // A retry goes to another host than the ones already tried.
    retry_host_predicate: [
      {
        name: "envoy.retry_host_predicates.previous_hosts",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
        },
      },
    ],
    host_selection_retry_max_attempts: 5,
  };
}
