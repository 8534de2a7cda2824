import { overloadManager } from "./bootstrap.js";
import { dnsClusterType } from "./dns-cluster.js";
import { duration, socket } from "./fields.js";
import type { Bootstrap, DnsCluster, StaticCluster, TcpListener, TypedExtension } from "./types.js";

/** Names of the L4 proxy's listener and cluster, as its admin API shows them. */
export const L4_LISTENER_NAME = "l4_virtual_ip";
export const L4_CLUSTER_NAME = "endpoints";

/** The L4 proxy's cluster: STATIC, or envoy.clusters.dns in place of the type. */
export type L4Cluster =
  | StaticCluster
  | (Omit<StaticCluster, "type"> & { cluster_type: TypedExtension<DnsCluster> });

export interface L4ProxyOptions {
  /** The virtual IP the proxy listens on, as a ClusterIP Service's address. */
  virtualIp: string;
  /** The Service port (the servers' port). */
  port: number;
  /**
   * The servers behind the virtual IP: a fixed list (`healthPort` is where `readiness` asks,
   * when not `port`), or every A record of a name, asked of `resolver` every `refreshMs`, as
   * kube-proxy follows a Service's endpoints (new connections reach a new one; made ones stay).
   */
  endpoints:
    | readonly { address: string; port: number; healthPort?: number }[]
    | { name: string; resolver: { address: string; port: number }; refreshMs: number };
  /** Admin API port on 127.0.0.1; 0 picks a free one. */
  adminPort: number;
  /**
   * New connections go only to endpoints whose GET `path` answers 200, as a Service sends
   * them only to ready pods; connections already made stay. Default: every endpoint, always.
   */
  readiness?: { path: string; intervalMs: number; timeoutMs: number };
}

/** A fixed list of endpoints, or the DNS cluster that follows a name. */
function discovery(o: L4ProxyOptions): { type: "STATIC" } | { cluster_type: TypedExtension<DnsCluster> } {
  if (Array.isArray(o.endpoints)) return { type: "STATIC" };
  const { resolver, refreshMs } = o.endpoints as Exclude<L4ProxyOptions["endpoints"], readonly unknown[]>;
  return { cluster_type: dnsClusterType(refreshMs, { kind: "servers", servers: [resolver] }) };
}

/** The hosts the cluster starts with: the fixed list, or the name (on the virtual IP's port) to resolve. */
function endpointList(o: L4ProxyOptions): readonly { address: string; port: number; healthPort?: number }[] {
  return Array.isArray(o.endpoints)
    ? o.endpoints
    : [{ address: (o.endpoints as { name: string }).name, port: o.port }];
}

/**
 * Envoy as a connection balancer, standing in for kube-proxy in front of a
 * ClusterIP Service: each new TCP connection to the virtual IP goes to the
 * next endpoint, and every byte of that connection, however many HTTP/2
 * requests it carries, stays with that endpoint.
 */
export function buildL4ProxyBootstrap(o: L4ProxyOptions): Bootstrap<TcpListener, L4Cluster> {
  return {
    node: { id: "grpc-lb-l4-proxy", cluster: "grpc-lb" },
    admin: { address: socket("127.0.0.1", o.adminPort) },
    static_resources: {
      listeners: [
        {
          name: L4_LISTENER_NAME,
          address: socket(o.virtualIp, o.port),
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.tcp_proxy",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                    stat_prefix: L4_LISTENER_NAME,
                    cluster: L4_CLUSTER_NAME,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: L4_CLUSTER_NAME,
          ...discovery(o),
          connect_timeout: duration(1000),
          lb_policy: "ROUND_ROBIN",
          ...(o.readiness === undefined
            ? {}
            : {
                health_checks: [
                  {
                    timeout: duration(o.readiness.timeoutMs),
                    interval: duration(o.readiness.intervalMs),
                    // Not 60 s before the first connection (Envoy's default): readiness is readiness.
                    no_traffic_interval: duration(o.readiness.intervalMs),
                    // One answer decides, as a readiness probe with failureThreshold 1.
                    unhealthy_threshold: 1,
                    healthy_threshold: 1,
                    http_health_check: { path: o.readiness.path },
                  },
                ],
              }),
          load_assignment: {
            cluster_name: L4_CLUSTER_NAME,
            endpoints: [
              {
                lb_endpoints: endpointList(o).map((e) => ({
                  endpoint: {
                    address: socket(e.address, e.port),
                    ...(e.healthPort === undefined
                      ? {}
                      : { health_check_config: { port_value: e.healthPort } }),
                  },
                })),
              },
            ],
          },
        },
      ],
    },
    overload_manager: overloadManager(10_000),
  };
}
