import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { clusterFrame, totalRps } from "../../src/watch/interval.js";
import { isInfraCluster, pickCluster } from "../../src/watch/pick-cluster.js";
import type { EnvoyReading, HostReading } from "../../src/watch/reading.js";
import { recorded } from "../watch-samples.js";

/** The same reading with cluster 'server' changed by `edit`. */
function edited(r: EnvoyReading, edit: (hosts: readonly HostReading[]) => HostReading[]): EnvoyReading {
  return { ...r, clusters: new Map([["server", edit(r.clusters.get("server") ?? [])]]) };
}

const WALL = Date.parse("2026-12-06T06:13:00Z");
const H1 = "127.77.0.1:41809";
const H2 = "127.77.0.2:41809";
const H3 = "127.77.0.3:41809";

describe("watch: reading /clusters", () => {
  it("reads every host of the lab's Envoy with its counters, hostname and health", () => {
    const hosts = recorded("lab-load-2").clusters.get("server") ?? [];
    assert.deepEqual(
      hosts.map((h) => [h.address, h.hostname, h.counters.rq_total, h.counters.rq_error, h.flags.length]),
      [
        [H1, "server", 248, 21, 0],
        [H2, "server", 255, 0, 0],
        [H3, "server", 255, 0, 0],
      ],
    );
  });

  it("reads istioctl's sample: camelCase keys, a pipe address, an ejected and an EDS-unhealthy host", () => {
    const r = recorded("istioctl");
    const reviews = r.clusters.get("outbound|9080||reviews.default.svc.cluster.local") ?? [];
    assert.deepEqual(
      reviews.map((h) => [h.address, h.flags]),
      [
        ["172.17.0.24:9080", []],
        ["172.17.0.26:9080", []],
        ["172.17.0.27:9080", ["failed_outlier_check"]],
      ],
    );
    const [mixer] = r.clusters.get("inbound_9092") ?? [];
    assert.equal(mixer?.address, "/sock/mixer.socket");
    assert.equal(mixer?.counters.rq_total, 300076);
    assert.deepEqual(
      r.clusters.get("outbound|15014||istio-policy.istio-system.svc.cluster.local")?.[0]?.flags,
      ["eds UNHEALTHY"],
    );
    assert.equal(pickCluster(r, undefined).name, "outbound|9080||reviews.default.svc.cluster.local");
  });
});

describe("watch: rates between two readings", () => {
  it("gives no rate at the first reading, only what is known now", () => {
    const f = clusterFrame(undefined, recorded("lab-load-1"), "server", WALL);
    assert.equal(f.intervalMs, null);
    assert.equal(totalRps(f), null);
    for (const h of f.hosts) {
      assert.equal(h.rps, null);
      assert.equal(h.calls, null);
      assert.equal(h.share, null);
      assert.equal(h.errors, null);
    }
    assert.deepEqual(
      f.hosts.map((h) => h.active),
      [0, 0, 1],
    );
  });

  it("turns each host's rq_total growth into calls per second over the measured interval", () => {
    // Recorded 1.016 s apart during a load of 300 calls/s; server 1 fails a tenth of its calls.
    const f = clusterFrame(recorded("lab-load-1", 0), recorded("lab-load-2", 1016), "server", WALL);
    assert.equal(f.intervalMs, 1016);
    assert.deepEqual(
      f.hosts.map((h) => [h.address, h.calls, h.errors?.error]),
      [
        [H1, 102, 8],
        [H2, 106, 0],
        [H3, 106, 0],
      ],
    );
    assert.ok(Math.abs((f.hosts[0]?.rps ?? 0) - (102 * 1000) / 1016) < 1e-9);
    assert.ok(Math.abs((totalRps(f) ?? 0) - (314 * 1000) / 1016) < 1e-9);
    assert.ok(Math.abs(f.hosts.reduce((n, h) => n + (h.share ?? 0), 0) - 1) < 1e-9);
    assert.equal(f.ts, "2026-12-06T06:13:00.000Z");
    assert.deepEqual([f.reset, f.removed, f.missing], [false, [], false]);
  });

  it("gives an interval without calls rates of 0 and no share", () => {
    const f = clusterFrame(recorded("lab-load-2", 0), recorded("lab-load-2", 1000), "server", WALL);
    assert.deepEqual(
      f.hosts.map((h) => [h.rps, h.share]),
      [
        [0, null],
        [0, null],
        [0, null],
      ],
    );
  });

  it("shows a host that appeared, counting it from 0, and names one that went away", () => {
    const prev = edited(recorded("lab-load-1", 0), (hs) => hs.filter((h) => h.address !== H3));
    const now = edited(recorded("lab-load-2", 1000), (hs) => hs.filter((h) => h.address !== H2));
    const f = clusterFrame(prev, now, "server", WALL);
    assert.deepEqual(
      f.hosts.map((h) => [h.address, h.added, h.calls]),
      [
        [H1, false, 102],
        [H3, true, 255],
      ],
    );
    assert.deepEqual(f.removed, [H2]);
  });

  it("never gives a negative rate when the counters start over (Envoy restarted)", () => {
    const f = clusterFrame(recorded("lab-load-2", 0), recorded("lab-idle", 1000), "server", WALL);
    assert.equal(f.reset, true);
    for (const h of f.hosts) {
      assert.ok((h.calls ?? -1) >= 0 && (h.rps ?? -1) >= 0, `${h.address}: ${h.calls}`);
      assert.ok(h.errors !== null && Object.values(h.errors).every((n) => n >= 0));
    }
  });

  it("shows a killed server's health flags, its ejection and its failed connection", () => {
    const f = clusterFrame(recorded("lab-load-2", 0), recorded("lab-server-killed", 1000), "server", WALL);
    const killed = f.hosts.find((h) => h.address.startsWith("127.77.0.2:"));
    assert.deepEqual(killed?.flags, ["failed_active_health_check", "failed_outlier_check"]);
    assert.equal(killed?.health, "unhealthy");
    assert.equal(killed?.ejected, true);
    assert.equal(killed?.errors?.connectFail, 1);
    assert.ok(f.hosts.filter((h) => h !== killed).every((h) => h.health === "healthy" && !h.ejected));
  });

  it("says the cluster is missing once Envoy no longer has it", () => {
    const gone: EnvoyReading = { ...recorded("lab-load-2", 1000), clusters: new Map() };
    const f = clusterFrame(recorded("lab-load-1", 0), gone, "server", WALL);
    assert.deepEqual([f.missing, f.hosts, f.removed], [true, [], [H1, H2, H3]]);
  });
});

describe("watch: which cluster", () => {
  const reading = (clusters: Record<string, number>): EnvoyReading => ({
    admin: "127.0.0.1:9901",
    atMs: 0,
    clusters: new Map(
      Object.entries(clusters).map(([name, n]) => [
        name,
        Array.from({ length: n }, (_, i) => ({
          address: `10.0.0.${i}:80`,
          hostname: null,
          counters: {},
          flags: [],
        })),
      ]),
    ),
  });

  it("picks the service's cluster with the most hosts, leaving out control-plane and tracing clusters", () => {
    const r = reading({ xds_cluster: 5, "sds-grpc": 4, zipkin: 3, api: 3, web: 2 });
    assert.deepEqual(pickCluster(r, undefined), {
      name: "api",
      by: "picked",
      all: ["api", "sds-grpc", "web", "xds_cluster", "zipkin"],
    });
    assert.equal(pickCluster(reading({ xds_cluster: 1 }), undefined).name, "xds_cluster");
  });

  it("takes the cluster asked for, and lists the clusters when it is not there", () => {
    const r = reading({ api: 3, web: 2 });
    assert.equal(pickCluster(r, "web").by, "asked");
    assert.throws(
      () => pickCluster(r, "nope"),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, /has no cluster 'nope'; its clusters: api, web/);
        return true;
      },
    );
    assert.throws(() => pickCluster(reading({}), undefined), UsageError);
  });

  it("tells infrastructure clusters by name", () => {
    for (const n of [
      "xds_cluster",
      "xds-grpc",
      "sds-grpc",
      "admin",
      "BlackHoleCluster",
      "InboundPassthroughClusterIpv4",
    ])
      assert.equal(isInfraCluster(n), true, n);
    for (const n of ["server", "outbound|9080||reviews.default.svc.cluster.local", "adsvc", "madmin-api"])
      assert.equal(isInfraCluster(n), false, n);
  });
});
