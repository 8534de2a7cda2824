import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildBootstrap, buildCluster } from "../../src/envoy/bootstrap.js";
import { buildEdsBootstrap, XDS_CLUSTER_NAME } from "../../src/envoy/bootstrap-eds.js";
import {
  DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
  resolveEdsOptions,
  resolveEnvoyConfigOptions,
} from "../../src/envoy/options.js";

const o = resolveEnvoyConfigOptions({});
const eds = resolveEdsOptions({ xdsAddress: "127.0.0.1", xdsPort: 18000 });

describe("Envoy by EDS over ADS (buildEdsBootstrap)", () => {
  const b = buildEdsBootstrap(o, eds);
  const [server, xds] = b.static_resources.clusters;

  it("cluster 'server' is EDS on the ADS stream, with a deliberate initial fetch timeout", () => {
    assert.ok(server && "eds_cluster_config" in server);
    assert.equal(server.type, "EDS");
    assert.deepEqual(server.eds_cluster_config, {
      service_name: "server",
      eds_config: { ads: {}, resource_api_version: "V3", initial_fetch_timeout: "5s" },
    });
    assert.equal(DEFAULT_INITIAL_FETCH_TIMEOUT_MS, 5000);
    assert.ok(!("cluster_type" in server) && !("load_assignment" in server), "no DNS, no static hosts");
  });

  it("keeps health checks, outlier detection, the retry budget, HTTP/2 and ignore_health_on_host_removal", () => {
    const { cluster_type: _t, load_assignment: _a, ...dns } = buildCluster(o);
    assert.ok(server && "eds_cluster_config" in server);
    const { type: _e, eds_cluster_config: _c, ...rest } = server;
    assert.deepEqual(rest, dns);
    assert.equal(dns.ignore_health_on_host_removal, true);
    assert.ok(dns.health_checks && dns.outlier_detection && dns.circuit_breakers);
  });

  it("ADS goes over gRPC (HTTP/2) to a STATIC cluster at the xDS server's address", () => {
    assert.deepEqual(b.dynamic_resources, {
      ads_config: {
        api_type: "GRPC",
        transport_api_version: "V3",
        grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER_NAME } }],
        set_node_on_first_message_only: true,
      },
    });
    assert.ok(xds && "type" in xds && xds.type === "STATIC");
    assert.deepEqual(xds.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address, {
      socket_address: { address: "127.0.0.1", port_value: 18000 },
    });
    assert.ok(xds.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]);
  });

  it("an xDS server by name (a Kubernetes Service) is a DNS cluster resolved as the servers' name is", () => {
    const named = buildEdsBootstrap(
      o,
      resolveEdsOptions({ xdsAddress: "xds.grpc-lb.svc.cluster.local", xdsPort: 18000 }),
    );
    const cluster = named.static_resources.clusters[1];
    assert.ok(cluster && "cluster_type" in cluster && !("type" in cluster));
    assert.deepEqual(cluster.cluster_type, buildCluster(o).cluster_type);
    assert.deepEqual(cluster.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address, {
      socket_address: { address: "xds.grpc-lb.svc.cluster.local", port_value: 18000 },
    });
  });

  it("the listener, admin and overload manager are the DNS bootstrap's; the DNS bootstrap has no dynamic resources", () => {
    const dns = buildBootstrap(o);
    assert.deepEqual(b.static_resources.listeners, dns.static_resources.listeners);
    assert.deepEqual([b.admin, b.overload_manager], [dns.admin, dns.overload_manager]);
    assert.equal(b.node.id, "grpc-lb-envoy");
    assert.ok(!("dynamic_resources" in dns));
  });

  it("refuses a host name, a bad port, a negative timeout and an empty node id", () => {
    for (const [bad, message] of [
      [{ xdsAddress: "xds server" }, /must be an IP address or a DNS name/],
      [{ xdsPort: 0 }, /xDS server port must be an integer from 1/],
      [{ initialFetchTimeoutMs: -1 }, /initialFetchTimeoutMs must be 0/],
      [{ nodeId: "" }, /node id .* cannot be empty/],
    ] as const) {
      assert.throws(() => resolveEdsOptions({ ...{ xdsAddress: "127.0.0.1", xdsPort: 1 }, ...bad }), message);
    }
  });
});
