import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runChecks } from "../../src/doctor/checks.js";
import { buildView, durationMs, type Json } from "../../src/doctor/envoy-view.js";
import { mergePatch } from "../../src/doctor/finding.js";
import { liveFindings, movedCluster } from "../../src/doctor/live.js";
import { scopeOf } from "../../src/doctor/scope.js";

const HCM =
  "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

/** A config dump with one listener whose HCM takes its routes from RDS, and the given clusters. */
function dump(clusters: Json[], routes: Json[], dynamic = false): Json {
  const listener = {
    name: "ingress",
    address: { socket_address: { address: "0.0.0.0", port_value: 8080 } },
    filter_chains: [{ filters: [{ typed_config: { "@type": HCM, rds: { route_config_name: "rc" } } }] }],
  };
  return {
    configs: [
      {
        "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
        bootstrap: { admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } } },
      },
      {
        "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
        dynamic_active_clusters: clusters.map((cluster) => ({ cluster })),
      },
      {
        "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
        ...(dynamic
          ? { dynamic_listeners: [{ name: "ingress", active_state: { listener } }] }
          : { static_listeners: [{ listener }] }),
      },
      {
        "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
        dynamic_route_configs: [
          { route_config: { name: "rc", virtual_hosts: [{ name: "vh", domains: ["*"], routes }] } },
        ],
      },
    ],
  };
}

const hostsJson = (cluster: string, n: number, flags: Json = {}): Json => ({
  cluster_statuses: [
    {
      name: cluster,
      host_statuses: Array.from({ length: n }, (_, i) => ({
        address: { socket_address: { address: `10.0.0.${i + 1}`, port_value: 50051 } },
        health_status: { eds_health_status: "HEALTHY", ...(i === 0 ? flags : {}) },
      })),
    },
  ],
});

describe("doctor's reading of a config dump", () => {
  it("parses protobuf JSON durations", () => {
    assert.equal(durationMs("5s"), 5000);
    assert.equal(durationMs("0.250s"), 250);
    assert.equal(durationMs("0s"), 0);
    assert.equal(durationMs(undefined), undefined);
    assert.equal(durationMs("5m"), undefined);
  });

  it("finds routes by RDS, static or dynamic listeners, and legacy cluster types", () => {
    for (const dynamic of [false, true]) {
      const view = buildView(
        "1.40.0",
        dump(
          [{ name: "api", type: "LOGICAL_DNS", dns_refresh_rate: "30s", load_assignment: {} }],
          [{ match: { prefix: "/" }, route: { cluster: "api" } }],
          dynamic,
        ),
        hostsJson("api", 1),
        { stats: [] },
      );
      const api = view.clusters.get("api");
      assert.equal(api?.kind, "LOGICAL_DNS");
      assert.equal(api?.dns?.refreshMs, 30_000);
      const scope = scopeOf(view);
      assert.ok(scope);
      assert.equal(scope.guessed, true, "no route says gRPC: every route is taken");
      const ids = runChecks(scope).map((f) => f.check);
      for (const id of ["logical-dns", "dns-refresh-slow", "no-http2", "no-retry", "route-timeout"])
        assert.ok(ids.includes(id), `${id} in ${ids.join(", ")}`);
      assert.ok(!ids.includes("one-host"), "LOGICAL_DNS has one host by design; logical-dns says it");
    }
  });

  it("takes only routes that match gRPC when some do, and --cluster narrows", () => {
    const view = buildView(
      "1.40.0",
      dump(
        [{ name: "grpc" }, { name: "web" }],
        [
          { match: { prefix: "/api.", grpc: {} }, route: { cluster: "grpc", timeout: "0s" } },
          { match: { prefix: "/" }, route: { cluster: "web" } },
        ],
      ),
      hostsJson("grpc", 2),
      { stats: [] },
    );
    assert.deepEqual(
      scopeOf(view)?.clusters.map((c) => c.name),
      ["grpc"],
    );
    assert.deepEqual(
      scopeOf(view, "web")?.clusters.map((c) => c.name),
      ["web"],
    );
    assert.equal(scopeOf(view, "nope"), undefined);
  });

  it("reads a 0 % panic threshold printed as {} as 0, and an absent one as Envoy's 50 %", () => {
    const outlier = { max_ejection_percent: 100 };
    const run = (common: Json | undefined) =>
      runChecks(
        scopeOf(
          buildView(
            "1.40.0",
            dump(
              [{ name: "c", outlier_detection: outlier, ...(common ? { common_lb_config: common } : {}) }],
              [{ match: { prefix: "/", grpc: {} }, route: { cluster: "c" } }],
            ),
            hostsJson("c", 3),
            { stats: [] },
          ),
        ) ?? assert.fail("no scope"),
      ).map((f) => f.check);
    assert.ok(run(undefined).includes("panic-hides-ejection"));
    assert.ok(!run({ healthy_panic_threshold: {} }).includes("panic-hides-ejection"));
  });

  it("sees unhealthy hosts and ejections now", () => {
    const view = buildView(
      "1.40.0",
      dump([{ name: "c" }], [{ match: { prefix: "/", grpc: {} }, route: { cluster: "c" } }]),
      hostsJson("c", 3, { failed_outlier_check: true }),
      { stats: [{ name: "cluster.c.outlier_detection.ejections_active", value: 1 }] },
    );
    const f = runChecks(scopeOf(view) ?? assert.fail("no scope")).find((x) => x.check === "hosts-unhealthy");
    assert.equal(f?.severity, "warning");
    assert.match(
      f?.evidence.value ?? "",
      /1 of 3 hosts: 10\.0\.0\.1:50051 failed_outlier_check; ejections_active 1/,
    );
  });
});

describe("doctor's fixes and live split", () => {
  it("merges a fix into a config: objects merged, arrays and scalars replaced", () => {
    const base = { a: { keep: 1, change: 2 }, list: [1, 2], s: "x" };
    assert.deepEqual(mergePatch(base, { a: { change: 3 }, list: [9], s: "y" }), {
      a: { keep: 1, change: 3 },
      list: [9],
      s: "y",
    });
    assert.deepEqual(base.a, { keep: 1, change: 2 }, "the base is not changed");
  });

  it("counts per host from rq_total before and after, in the cluster that moved", () => {
    const snap = (entries: [string, string, number][]) => {
      const m = new Map<string, Map<string, Record<string, number>>>();
      for (const [c, h, n] of entries) {
        if (!m.has(c)) m.set(c, new Map());
        m.get(c)?.set(h, { rq_total: n });
      }
      return m;
    };
    const before = snap([
      ["a", "h1", 5],
      ["a", "h2", 5],
      ["b", "x", 0],
    ]);
    const after = snap([
      ["a", "h1", 15],
      ["a", "h2", 5],
      ["a", "h3", 4],
      ["b", "x", 1],
    ]);
    const moved = movedCluster(before, after, ["a", "b"]);
    assert.deepEqual(moved, { cluster: "a", hosts: { h1: 10, h2: 0, h3: 4 } });
    const findings = liveFindings(
      {
        listener: "l",
        method: "m",
        calls: 14,
        ok: 14,
        failed: {},
        ...moved,
        maxMinRatio: Number.POSITIVE_INFINITY,
      },
      () => ["h1", "h2", "h3"],
    );
    assert.deepEqual(
      findings.map((f) => [f.check, f.severity]),
      [["live-unreached", "warning"]],
    );
  });
});
