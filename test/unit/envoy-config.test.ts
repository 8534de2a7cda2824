import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { buildBootstrap, CLUSTER_NAME } from "../../src/envoy/bootstrap.js";
import { buildL4ProxyBootstrap } from "../../src/envoy/l4-proxy.js";
import { LB_POLICIES, resolveEnvoyConfigOptions } from "../../src/envoy/options.js";
import { envoyConfigYaml } from "../../src/envoy/yaml.js";
import { UsageError } from "../../src/errors.js";

const build = (o = {}) => buildBootstrap(resolveEnvoyConfigOptions(o));

describe("envoy bootstrap builder", () => {
  it("discovers the servers by DNS, one host per A record", () => {
    const cluster = build().static_resources.clusters[0];
    assert.ok(cluster);
    assert.equal(cluster.name, CLUSTER_NAME);
    assert.equal(cluster.cluster_type.name, "envoy.clusters.dns");
    const dns = cluster.cluster_type.typed_config;
    assert.equal(dns["@type"], "type.googleapis.com/envoy.extensions.clusters.dns.v3.DnsCluster");
    assert.equal(dns.all_addresses_in_single_endpoint, false);
    assert.equal(dns.dns_lookup_family, "V4_ONLY");
    assert.equal(dns.dns_refresh_rate, "5s");
    const ep = cluster.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address.socket_address;
    assert.deepEqual(ep, { address: "server", port_value: 50051 });
  });

  it("ejects hosts on server and network failures only, never on what a client's mistake gets back", () => {
    const od = build().static_resources.clusters[0]?.outlier_detection;
    assert.ok(od);
    // Connect failures, resets and timeouts, counted apart from what servers answer: they eject.
    assert.equal(od.split_external_local_origin_errors, true);
    assert.equal(od.enforcing_consecutive_local_origin_failure, 100);
    // 502/503/504 (UNAVAILABLE, DEADLINE_EXCEEDED from the server): they eject.
    assert.equal(od.enforcing_consecutive_gateway_failure, 100);
    // Other 5xx (UNIMPLEMENTED 501, INTERNAL and UNKNOWN 500) and the rate-based detectors: never enforced.
    for (const k of [
      "enforcing_consecutive_5xx",
      "enforcing_success_rate",
      "enforcing_local_origin_success_rate",
      "enforcing_failure_percentage",
      "enforcing_failure_percentage_local_origin",
    ] as const) {
      assert.equal(od[k], 0, k);
    }
    assert.equal(
      build({ outlierDetection: false }).static_resources.clusters[0]?.outlier_detection,
      undefined,
    );
  });

  it("ages client connections out only when asked, and keeps Envoy's drain timeout unless told", () => {
    const hcm = (o = {}) =>
      build(o).static_resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config;
    assert.equal(hcm()?.common_http_protocol_options, undefined);
    assert.equal(hcm()?.drain_timeout, undefined);
    const aged = hcm({ maxConnectionDurationMs: 300_000, drainTimeoutMs: 15_000 });
    assert.deepEqual(aged?.common_http_protocol_options, { max_connection_duration: "300s" });
    assert.equal(aged?.drain_timeout, "15s");
    assert.throws(() => build({ drainTimeoutMs: 0 }), UsageError);
    assert.throws(() => build({ maxConnectionDurationMs: -1 }), UsageError);
  });

  it("keeps per-endpoint stats, for operators' Prometheus", () => {
    assert.deepEqual(build().static_resources.clusters[0]?.track_cluster_stats, { per_endpoint_stats: true });
  });

  it("speaks HTTP/2 to the upstream hosts", () => {
    const cluster = build().static_resources.clusters[0];
    const http =
      cluster?.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
    assert.deepEqual(http?.explicit_http_config, { http2_protocol_options: {} });
  });

  it("balances round robin by default and takes each policy", () => {
    assert.equal(build().static_resources.clusters[0]?.lb_policy, "ROUND_ROBIN");
    for (const policy of LB_POLICIES) {
      assert.equal(build({ policy }).static_resources.clusters[0]?.lb_policy, policy.toUpperCase());
    }
  });

  it("binds admin to 127.0.0.1 whatever the listener address", () => {
    const b = build({ listenAddress: "0.0.0.0", adminPort: 9902 });
    assert.deepEqual(b.admin.address.socket_address, { address: "127.0.0.1", port_value: 9902 });
    assert.equal(b.static_resources.listeners[0]?.address.socket_address.address, "0.0.0.0");
  });

  it("routes gRPC to the cluster and leaves deadlines to the client", () => {
    const hcm = build().static_resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config;
    const route = hcm?.route_config.virtual_hosts[0]?.routes[0];
    assert.deepEqual(route?.match, { prefix: "/", grpc: {} });
    assert.equal(route?.route.cluster, CLUSTER_NAME);
    assert.equal(route?.route.timeout, "0s");
    assert.equal(hcm?.http_filters.at(-1)?.name, "envoy.filters.http.router");
  });

  it("points c-ares at given DNS servers without search domains, or at the system's", () => {
    const lab = build({ dnsResolvers: { kind: "servers", servers: [{ address: "127.0.0.1", port: 5353 }] } });
    const cares =
      lab.static_resources.clusters[0]?.cluster_type.typed_config.typed_dns_resolver_config.typed_config;
    assert.deepEqual(cares?.resolvers, [{ socket_address: { address: "127.0.0.1", port_value: 5353 } }]);
    assert.equal(cares?.dns_resolver_options.no_default_search_domain, true);
    const system = build().static_resources.clusters[0]?.cluster_type.typed_config.typed_dns_resolver_config;
    assert.equal(system?.typed_config.resolvers, undefined);
    // Kubernetes short names need the pod's search domains.
    assert.equal(system?.typed_config.dns_resolver_options.no_default_search_domain, false);
  });

  it("serializes to YAML that parses back to the same data", () => {
    const o = { serverHost: "server.demo.svc.cluster.local", dnsRefreshMs: 250 };
    const yaml = envoyConfigYaml(o, "header line");
    assert.match(yaml, /^# header line\n/);
    assert.deepEqual(parse(yaml), JSON.parse(JSON.stringify(build(o))));
    assert.match(yaml, /dns_refresh_rate: 0\.25s/);
  });

  it("builds the L4 proxy as a tcp_proxy over static endpoints, balancing connections", () => {
    const b = buildL4ProxyBootstrap({
      virtualIp: "127.77.255.254",
      port: 7000,
      endpoints: [
        { address: "127.77.0.1", port: 7000 },
        { address: "127.77.0.2", port: 7000 },
      ],
      adminPort: 0,
    });
    const listener = b.static_resources.listeners[0];
    assert.deepEqual(listener?.address.socket_address, { address: "127.77.255.254", port_value: 7000 });
    assert.equal(listener?.filter_chains[0]?.filters[0]?.name, "envoy.filters.network.tcp_proxy");
    const cluster = b.static_resources.clusters[0];
    assert.ok(cluster && "type" in cluster);
    assert.equal(cluster.type, "STATIC");
    assert.deepEqual(
      cluster?.load_assignment.endpoints[0]?.lb_endpoints.map(
        (e) => e.endpoint.address.socket_address.address,
      ),
      ["127.77.0.1", "127.77.0.2"],
    );
    assert.equal(b.admin.address.socket_address.address, "127.0.0.1");
  });

  it("builds the L4 proxy following a name's A records from one resolver, as kube-proxy follows endpoints", () => {
    const b = buildL4ProxyBootstrap({
      virtualIp: "127.77.255.254",
      port: 7000,
      endpoints: {
        name: "server-endpoints",
        resolver: { address: "127.0.0.1", port: 5353 },
        refreshMs: 1000,
      },
      adminPort: 0,
    });
    const cluster = b.static_resources.clusters[0];
    assert.ok(cluster && "cluster_type" in cluster && !("type" in cluster));
    const dns = cluster.cluster_type.typed_config;
    assert.equal(dns.dns_refresh_rate, "1s");
    assert.equal(dns.all_addresses_in_single_endpoint, false);
    assert.deepEqual(dns.typed_dns_resolver_config.typed_config.resolvers, [
      { socket_address: { address: "127.0.0.1", port_value: 5353 } },
    ]);
    assert.deepEqual(cluster.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address, {
      socket_address: { address: "server-endpoints", port_value: 7000 },
    });
  });

  it("rejects impossible options with a UsageError", () => {
    assert.throws(() => build({ listenPort: 70000 }), UsageError);
    assert.throws(() => build({ serverPort: 0 }), /serverPort/);
    assert.throws(() => build({ serverHost: "bad host!" }), /not a DNS name/);
    assert.throws(() => build({ dnsResolvers: { kind: "servers", servers: [] } }), /no server/);
  });
});
