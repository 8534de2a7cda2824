import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkView } from "../../src/doctor/doctor.js";
import { buildView, type Json } from "../../src/doctor/envoy-view.js";
import { scopeOf } from "../../src/doctor/scope.js";

const T = "type.googleapis.com/";
const HCM = `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
const H2 = {
  "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
    "@type": `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
    explicit_http_config: { http2_protocol_options: {} },
  },
};
const grpcRoute = (cluster: string): Json => ({ match: { prefix: "/", grpc: {} }, route: { cluster } });
const vhosts = (routes: Json[]): Json => ({ virtual_hosts: [{ name: "vh", domains: ["*"], routes }] });
const hcm = (routeSource: Json, extra: Json = {}): Json => ({
  filters: [
    {
      name: "envoy.filters.network.http_connection_manager",
      typed_config: { "@type": HCM, ...routeSource, ...extra },
    },
  ],
});
const listener = (name: string | undefined, chains: Json[], extra: Json = {}): Json => ({
  ...(name === undefined ? {} : { name }),
  address: { socket_address: { address: "0.0.0.0", port_value: 8080 } },
  filter_chains: chains,
  ...extra,
});
const section = (type: string, body: Json): Json => ({ "@type": `${T}envoy.admin.v3.${type}`, ...body });
const clusters = (...cs: Json[]): Json =>
  section("ClustersConfigDump", { dynamic_active_clusters: cs.map((cluster) => ({ cluster })) });
const view = (...configs: Json[]) =>
  buildView("1.40.0", { configs }, { cluster_statuses: [] }, { stats: [] });
const staticListeners = (...ls: Json[]) =>
  section("ListenersConfigDump", { static_listeners: ls.map((listener) => ({ listener })) });

describe("doctor reads every form /config_dump shows listeners, routes and clusters in", () => {
  it("an unnamed listener, named by its address", () => {
    const v = view(
      staticListeners(listener(undefined, [hcm({ route_config: vhosts([grpcRoute("s")]) })])),
      clusters({ name: "s", ...{ typed_extension_protocol_options: H2 } }),
    );
    assert.equal(v.listeners[0]?.name, "0.0.0.0:8080");
    assert.deepEqual(checkView(v, "x").clusters, ["s"]);
  });

  it("finds RDS routes by the exact type URL, with a scoped routes section before them", () => {
    const v = view(
      staticListeners(listener("l", [hcm({ rds: { route_config_name: "rc" } })])),
      section("ScopedRoutesConfigDump", {}),
      section("RoutesConfigDump", {
        dynamic_route_configs: [{ route_config: { name: "rc", ...vhosts([grpcRoute("s")]) } }],
      }),
      clusters({ name: "s" }),
    );
    assert.deepEqual(checkView(v, "x").clusters, ["s"]);
  });

  it("scoped routes (SRDS): each scope's route configuration", () => {
    const v = view(
      staticListeners(listener("l", [hcm({ scoped_routes: { name: "scopes", scoped_rds: {} } })])),
      section("ScopedRoutesConfigDump", {
        dynamic_scoped_route_configs: [
          {
            name: "scopes",
            scoped_route_configs: [
              { name: "a", route_configuration_name: "rc-a" },
              { name: "b", route_configuration_name: "rc-missing" },
            ],
          },
        ],
      }),
      section("RoutesConfigDump", {
        dynamic_route_configs: [{ route_config: { name: "rc-a", ...vhosts([grpcRoute("s")]) } }],
      }),
      clusters({ name: "s" }),
    );
    const r = checkView(v, "x");
    assert.deepEqual(r.clusters, ["s"]);
    assert.ok(
      r.notes.some((n) => n.includes("scope b's routes are not in the dump yet")),
      r.notes.join("\n"),
    );
  });

  it("dynamic listeners active, warming and draining; several filter chains and the default one", () => {
    const l = (name: string, cluster: string) =>
      listener(name, [hcm({ route_config: vhosts([grpcRoute(cluster)]) })], {
        default_filter_chain: hcm({ route_config: vhosts([grpcRoute(`${cluster}-default`)]) }),
      });
    const v = view(
      section("ListenersConfigDump", {
        dynamic_listeners: [
          { name: "a", active_state: { listener: l("a", "a") } },
          { name: "w", warming_state: { listener: l("w", "w") } },
          { name: "d", draining_state: { listener: l("d", "d") } },
        ],
      }),
      clusters(...["a", "a-default", "w", "w-default", "d", "d-default"].map((name) => ({ name }))),
    );
    assert.deepEqual(
      v.listeners.map((x) => `${x.name} ${x.state}`),
      ["a active", "w warming", "d draining"],
    );
    assert.deepEqual(checkView(v, "x").clusters.sort(), [
      "a",
      "a-default",
      "d",
      "d-default",
      "w",
      "w-default",
    ]);
    assert.equal(
      v.listeners[0]?.managers[1]?.routes[0]?.where,
      "a[1]/vh/#0",
      "each chain's routes have a place of their own",
    );
  });

  it("weighted clusters, a cluster named by a header (noted, not judged), redirects left out", () => {
    const v = view(
      staticListeners(
        listener("l", [
          hcm({
            route_config: vhosts([
              {
                match: { prefix: "/a", grpc: {} },
                route: {
                  weighted_clusters: {
                    clusters: [
                      { name: "x", weight: 1 },
                      { name: "y", weight: 1 },
                    ],
                  },
                },
              },
              { match: { prefix: "/b", grpc: {} }, route: { cluster_header: "x-cluster" } },
              { match: { prefix: "/c", grpc: {} }, redirect: { path_redirect: "/" } },
            ]),
          }),
        ]),
      ),
      clusters({ name: "x" }, { name: "y" }),
    );
    const r = checkView(v, "x");
    assert.deepEqual(r.clusters.sort(), ["x", "y"]);
    assert.ok(
      r.notes.some((n) => /named by request header x-cluster; not judged/.test(n)),
      r.notes.join("\n"),
    );
  });

  it("aggregate clusters bring the clusters they try; the dynamic forward proxy and cluster_type extensions", () => {
    const agg = {
      name: "agg",
      cluster_type: {
        name: "envoy.clusters.aggregate",
        typed_config: {
          "@type": `${T}envoy.extensions.clusters.aggregate.v3.ClusterConfig`,
          clusters: ["p", "q"],
        },
      },
      lb_policy: "CLUSTER_PROVIDED",
    };
    const dfp = {
      name: "dfp",
      cluster_type: {
        name: "envoy.clusters.dynamic_forward_proxy",
        typed_config: { "@type": `${T}envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig` },
      },
    };
    const redis = { name: "other", cluster_type: { name: "envoy.clusters.redis", typed_config: {} } };
    const v = view(
      staticListeners(listener("l", [hcm({ route_config: vhosts(["agg", "dfp", "other"].map(grpcRoute)) })])),
      clusters(
        agg,
        dfp,
        redis,
        { name: "p", typed_extension_protocol_options: H2 },
        { name: "q", http2_protocol_options: {} },
      ),
    );
    assert.equal(v.clusters.get("agg")?.kind, "AGGREGATE");
    assert.equal(v.clusters.get("dfp")?.kind, "DYNAMIC_FORWARD_PROXY");
    assert.equal(v.clusters.get("other")?.typeName, "envoy.clusters.redis");
    assert.equal(v.clusters.get("q")?.upstream, "http2", "the legacy cluster-level http2_protocol_options");
    const r = checkView(v, "x");
    assert.deepEqual(r.clusters.sort(), ["agg", "dfp", "other", "p", "q"]);
    const about = (c: string) => r.findings.filter((f) => f.subject === `cluster ${c}`).map((f) => f.check);
    assert.ok(
      !about("agg").includes("no-http2") && !about("agg").includes("no-health-check"),
      about("agg").join(),
    );
    assert.ok(!about("dfp").includes("no-health-check"));
    assert.ok(!about("p").includes("no-http2") && !about("q").includes("no-http2"));
    assert.ok(about("dfp").includes("no-http2"), "the forward proxy speaks HTTP/1.1 here");
  });

  it("gRPC carried over HTTP/1.1 by grpc_http1_reverse_bridge is no no-http2 error, unless a route turns it off", () => {
    const bridge = {
      name: "envoy.filters.http.grpc_http1_reverse_bridge",
      typed_config: {
        "@type": `${T}envoy.extensions.filters.http.grpc_http1_reverse_bridge.v3.FilterConfig`,
        content_type: "application/grpc+proto",
      },
    };
    const off = {
      "envoy.filters.http.grpc_http1_reverse_bridge": {
        "@type": `${T}envoy.extensions.filters.http.grpc_http1_reverse_bridge.v3.FilterConfigPerRoute`,
        disabled: true,
      },
    };
    const run = (route: Json) =>
      checkView(
        view(
          staticListeners(
            listener("l", [
              hcm(
                { route_config: vhosts([route]) },
                { http_filters: [bridge, { name: "envoy.filters.http.router" }] },
              ),
            ]),
          ),
          clusters({ name: "h1" }),
        ),
        "x",
      ).findings.map((f) => f.check);
    assert.ok(!run(grpcRoute("h1")).includes("no-http2"));
    assert.ok(run({ ...grpcRoute("h1"), typed_per_filter_config: off }).includes("no-http2"));
  });

  it("v2alpha dumps, TypedStruct-wrapped managers, legacy cluster types", () => {
    const v = buildView(
      "1.12.0",
      {
        configs: [
          {
            "@type": `${T}envoy.admin.v2alpha.ListenersConfigDump`,
            dynamic_active_listeners: [
              {
                listener: listener("l", [
                  {
                    filters: [
                      {
                        typed_config: {
                          "@type": `${T}udpa.type.v1.TypedStruct`,
                          type_url: HCM,
                          value: { route_config: vhosts([grpcRoute("s")]) },
                        },
                      },
                    ],
                  },
                ]),
              },
            ],
          },
          {
            "@type": `${T}envoy.admin.v2alpha.ClustersConfigDump`,
            static_clusters: [{ cluster: { name: "s", type: "STRICT_DNS", http2_protocol_options: {} } }],
          },
        ],
      },
      { cluster_statuses: [] },
      { stats: [] },
    );
    assert.equal(v.clusters.get("s")?.kind, "STRICT_DNS");
    assert.deepEqual(checkView(v, "x").clusters, ["s"]);
  });

  it("no route to a cluster, or nothing it knows: a note and no error, not a refusal", () => {
    const empty = checkView(view(), "x");
    assert.deepEqual(empty.clusters, []);
    assert.equal(empty.counts.error, 0);
    assert.ok(empty.notes.some((n) => n.includes("no section doctor knows")));
    const tcp = checkView(view(clusters({ name: "s" })), "x");
    assert.ok(tcp.notes.some((n) => n.startsWith("no HTTP route sends calls to a cluster")));
  });

  it("guessing gRPC, it keeps the routed clusters that speak HTTP/2 and says so", () => {
    const v = view(
      staticListeners(
        listener("l", [
          hcm({
            route_config: vhosts([
              { match: { prefix: "/g" }, route: { cluster: "g" } },
              { match: { prefix: "/" }, route: { cluster: "web" } },
            ]),
          }),
        ]),
      ),
      clusters({ name: "g", typed_extension_protocol_options: H2 }, { name: "web" }),
    );
    const scope = scopeOf(v);
    assert.deepEqual(
      scope?.clusters.map((c) => c.name),
      ["g"],
    );
    assert.deepEqual(
      scope?.routes.map((r) => r.where),
      ["l/vh/#0"],
    );
    assert.match(
      scope?.notes[0] ?? "",
      /checked the 1 of 2 routed clusters that a gRPC filter reaches, that speak HTTP\/2/,
    );
  });

  it("nothing says gRPC: errors that hold only for gRPC are warnings, and a note says why", () => {
    const r = checkView(
      view(
        staticListeners(
          listener("l", [
            hcm({ route_config: vhosts([{ match: { prefix: "/" }, route: { cluster: "web" } }]) }),
          ]),
        ),
        clusters({ name: "web", type: "LOGICAL_DNS", load_assignment: {} }),
      ),
      "x",
    );
    const sev = (id: string) => r.findings.find((f) => f.check === id)?.severity;
    assert.equal(sev("no-http2"), "warning");
    assert.equal(sev("logical-dns"), "warning");
    assert.ok(r.notes.some((n) => n.startsWith("nothing in this configuration says it carries gRPC")));
    assert.equal(checkView(view(...[]), "x").counts.error, 0);
  });

  it("one loopback endpoint: Envoy's admin is left out, a local app only beside other clusters", () => {
    const localTo = (name: string, port: number) => ({
      name,
      typed_extension_protocol_options: H2,
      load_assignment: {
        endpoints: [
          {
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } },
            ],
          },
        ],
      },
    });
    const adminAt9901 = section("BootstrapConfigDump", {
      bootstrap: { admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } } },
    });
    const run = (...cs: Json[]) =>
      checkView(
        view(
          adminAt9901,
          staticListeners(
            listener("l", [hcm({ route_config: vhosts(cs.map((c) => grpcRoute(String(c.name)))) })]),
          ),
          clusters(...cs),
        ),
        "x",
      );
    const alone = run(localTo("app", 8080));
    assert.deepEqual(alone.clusters, ["app"], "all Envoy routes gRPC to: the subject");
    const admin = run(localTo("stats", 9901));
    assert.deepEqual(admin.clusters, []);
    assert.ok(
      admin.notes.some(
        (n) => n === "one endpoint on the same host, nothing to balance: stats (Envoy's own admin)",
      ),
    );
    const sidecar = run(localTo("app", 8080), { name: "remote", typed_extension_protocol_options: H2 });
    assert.deepEqual(sidecar.clusters, ["remote"]);
    assert.ok(
      sidecar.notes.some((n) => n.startsWith("one endpoint on the same host, nothing to balance: app")),
    );
  });

  it("a TCP proxy in an Envoy that routes no HTTP: connections balanced, not calls", () => {
    const tcp = {
      filters: [
        {
          name: "envoy.filters.network.tcp_proxy",
          typed_config: {
            "@type": `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`,
            cluster: "s",
          },
        },
      ],
    };
    const r = checkView(
      view(staticListeners(listener("l4", [tcp])), clusters({ name: "s", type: "STRICT_DNS" })),
      "x",
    );
    assert.deepEqual(
      r.findings.map((f) => `${f.severity} ${f.check} ${f.subject}`),
      ["info tcp-proxy listener l4"],
    );
  });

  it("camelCase dumps (istioctl's) and a single object where a list belongs read as Envoy reads them", () => {
    const v = buildView(
      "1.40.0",
      {
        configs: [
          {
            "@type": `${T}envoy.admin.v3.ListenersConfigDump`,
            staticListeners: [
              {
                listener: listener("l", [
                  hcm({
                    routeConfig: { virtualHosts: { name: "vh", domains: ["*"], routes: [grpcRoute("s")] } },
                  }),
                ]),
              },
            ],
          },
          {
            "@type": `${T}envoy.admin.v3.ClustersConfigDump`,
            dynamicActiveClusters: [{ cluster: { name: "s", http2ProtocolOptions: {} } }],
          },
        ],
      },
      { clusterStatuses: [] },
      { stats: [] },
    );
    assert.equal(v.clusters.get("s")?.upstream, "http2");
    assert.deepEqual(checkView(v, "x").clusters, ["s"]);
  });
});

describe("doctor reads every form a TLS context takes in a dump", () => {
  const TLS = `${T}envoy.extensions.transport_sockets.tls.v3.`;
  const socket = (typedConfig: Json): Json => ({
    name: "envoy.transport_sockets.tls",
    typed_config: typedConfig,
  });
  const tlsOf = (cluster: Json) => view(clusters({ name: "s", ...cluster })).clusters.get("s")?.tls ?? [];

  it("by its exact type URL, typed or in a TypedStruct, and the legacy tls_context", () => {
    const ctx = { common_tls_context: { alpn_protocols: ["h2"] } };
    assert.deepEqual(
      tlsOf({ transport_socket: socket({ "@type": `${TLS}UpstreamTlsContext`, ...ctx }) }).map((t) => t.path),
      [["transport_socket", "typed_config"]],
    );
    const wrapped = tlsOf({
      transport_socket: socket({
        "@type": `${T}xds.type.v3.TypedStruct`,
        type_url: `${TLS}UpstreamTlsContext`,
        value: ctx,
      }),
    });
    assert.deepEqual(wrapped[0]?.context, ctx);
    assert.equal(tlsOf({ tls_context: ctx })[0]?.where, "tls_context");
    // A downstream context on a cluster, or a message whose name only ends alike, is not an upstream one.
    assert.deepEqual(tlsOf({ transport_socket: socket({ "@type": `${TLS}DownstreamTlsContext` }) }), []);
    assert.deepEqual(tlsOf({ transport_socket: socket({ "@type": `${TLS}XUpstreamTlsContext` }) }), []);
  });

  it("camelCase dumps, filter chains with a DownstreamTlsContext, and transport_socket_matches", () => {
    const v = buildView(
      "1.40.0",
      {
        configs: [
          staticListeners(
            listener("l", [
              {
                ...hcm({ route_config: vhosts([grpcRoute("s")]) }),
                transportSocket: socket({
                  "@type": `${TLS}DownstreamTlsContext`,
                  commonTlsContext: { alpnProtocols: ["http/1.1"] },
                }),
              },
            ]),
          ),
          clusters({
            name: "s",
            transportSocketMatches: [
              { name: "plain", transportSocket: { name: "envoy.transport_sockets.raw_buffer" } },
              { name: "mtls", transportSocket: socket({ "@type": `${TLS}UpstreamTlsContext` }) },
            ],
          }),
        ],
      },
      { cluster_statuses: [] },
      { stats: [] },
    );
    const chainTls = v.listeners[0]?.managers[0]?.tls;
    assert.deepEqual(chainTls?.context.common_tls_context, { alpn_protocols: ["http/1.1"] });
    const [match] = v.clusters.get("s")?.tls ?? [];
    assert.equal(match?.where, "transport_socket_matches[mtls]");
    assert.deepEqual(match?.path, ["transport_socket_matches", 1, "transport_socket", "typed_config"]);
    assert.deepEqual(v.notes, ["/certs was not read: certificate expiry not judged"]);
  });
});
