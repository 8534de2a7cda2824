import { isIP } from "node:net";
import { buildBootstrap, buildCluster, duration, socket } from "./bootstrap.js";
import type { ResolvedEdsOptions, ResolvedEnvoyConfigOptions } from "./options.js";
import type { Bootstrap, Cluster, EdsCluster, Listener, XdsServerCluster } from "./types.js";

/** Name of the cluster of the xDS server, as Envoy's admin API and stats show it. */
export const XDS_CLUSTER_NAME = "xds_cluster";

/**
 * The bootstrap of buildBootstrap with cluster "server" fed by EDS over ADS instead of DNS:
 * the same listener, health checks, outlier detection, retries and drain, and
 * ignore_health_on_host_removal, so a host the xDS server drops leaves at once even while
 * its health checks pass. The EDS service name is the cluster's name.
 */
export function buildEdsBootstrap(
  o: ResolvedEnvoyConfigOptions,
  eds: ResolvedEdsOptions,
): Bootstrap<Listener, EdsCluster | XdsServerCluster> {
  const base = buildBootstrap(o);
  const { name, cluster_type: dns, load_assignment: _hosts, ...cluster } = buildCluster(o);
  const server: EdsCluster = {
    name,
    type: "EDS",
    eds_cluster_config: {
      service_name: name,
      eds_config: {
        ads: {},
        resource_api_version: "V3",
        // Past this Envoy starts with no host rather than not at all; 0 would wait for ever.
        initial_fetch_timeout: duration(eds.initialFetchTimeoutMs),
      },
    },
    ...cluster,
  };
  return {
    node: { ...base.node, id: eds.nodeId },
    admin: base.admin,
    dynamic_resources: {
      ads_config: {
        api_type: "GRPC",
        transport_api_version: "V3",
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
        set_node_on_first_message_only: true,
      },
    },
    static_resources: {
      listeners: base.static_resources.listeners,
      clusters: [server, xdsServerCluster(o, eds, dns, cluster.typed_extension_protocol_options)],
    },
    overload_manager: base.overload_manager,
  };
}

function xdsServerCluster(
  o: ResolvedEnvoyConfigOptions,
  eds: ResolvedEdsOptions,
  dns: Cluster["cluster_type"],
  http2: XdsServerCluster["typed_extension_protocol_options"],
): XdsServerCluster {
  return {
    name: XDS_CLUSTER_NAME,
    // A name (a Kubernetes Service's) is resolved with the servers' DNS settings.
    ...(isIP(eds.xdsAddress) === 0 ? { cluster_type: dns } : { type: "STATIC" as const }),
    connect_timeout: duration(o.connectTimeoutMs),
    load_assignment: {
      cluster_name: XDS_CLUSTER_NAME,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(eds.xdsAddress, eds.xdsPort) } }] }],
    },
    // ADS is gRPC: HTTP/2 to the xDS server, as to the servers.
    typed_extension_protocol_options: http2,
  };
}
