import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type HostCounters, hostSplit } from "../../src/envoy/host-split.js";
import { UsageError } from "../../src/errors.js";
import { checkBalance } from "../../src/loadgen/gate.js";
import { reportWithHostSplit } from "../../src/loadgen/host-split-report.js";
import { LoadRecorder } from "../../src/loadgen/recorder.js";

/** Counters from cluster → host → [rq_success, rq_total, rq_error]. */
const counters = (c: Record<string, Record<string, [number, number, number?]>>): HostCounters =>
  new Map(
    Object.entries(c).map(([cluster, hosts]) => [
      cluster,
      new Map(
        Object.entries(hosts).map(([host, [ok, total, err = 0]]) => [
          host,
          { rq_success: ok, rq_total: total, rq_error: err, cx_total: 1 },
        ]),
      ),
    ]),
  );

describe("hostSplit", () => {
  it("counts each host's growth of rq_success, hosts never reached included with 0", () => {
    const split = hostSplit(
      counters({ server: { "a:1": [3, 3], "b:1": [3, 3], "c:1": [3, 3] } }),
      counters({ server: { "a:1": [23, 25, 2], "b:1": [13, 13], "c:1": [3, 3] } }),
    );
    assert.deepEqual(split.clusters, ["server"]);
    assert.deepEqual(
      split.hosts.map((h) => [h.name, h.answered, h.attempts, h.errors]),
      [
        ["a:1", 20, 22, 2],
        ["b:1", 10, 10, 0],
        ["c:1", 0, 0, 0],
      ],
    );
    assert.equal(split.total, 30);
  });

  it("counts a host that appeared from 0, one re-added from 0, and names the ones that vanished", () => {
    const split = hostSplit(
      counters({ server: { "a:1": [50, 50], "gone:1": [7, 7] } }),
      counters({ server: { "a:1": [4, 4], "new:1": [6, 6] } }),
    );
    assert.deepEqual(
      split.hosts.map((h) => [h.name, h.answered]),
      [
        ["new:1", 6],
        ["a:1", 4],
      ],
    );
    assert.deepEqual(split.vanished, ["gone:1"]);
  });

  it("takes the one cluster whose counters moved", () => {
    const split = hostSplit(
      counters({ admin: { "x:1": [1, 1] }, server: { "a:1": [0, 0] } }),
      counters({ admin: { "x:1": [1, 1] }, server: { "a:1": [5, 5] } }),
    );
    assert.deepEqual(split.clusters, ["server"]);
    assert.deepEqual(
      split.hosts.map((h) => h.name),
      ["a:1"],
    );
  });

  it("names hosts cluster/host when several clusters moved", () => {
    const split = hostSplit(
      counters({ blue: { "a:1": [0, 0] }, green: { "a:1": [0, 0] } }),
      counters({ blue: { "a:1": [2, 2] }, green: { "a:1": [3, 3] } }),
    );
    assert.deepEqual(split.clusters, ["blue", "green"]);
    assert.deepEqual(
      split.hosts.map((h) => [h.name, h.answered]),
      [
        ["green/a:1", 3],
        ["blue/a:1", 2],
      ],
    );
  });

  it("uses the only cluster when nothing moved, and refuses to guess among several", () => {
    const one = counters({ server: { "a:1": [1, 1] } });
    assert.deepEqual(hostSplit(one, one).hosts[0]?.answered, 0);
    const two = counters({ blue: { "a:1": [1, 1] }, green: { "a:1": [1, 1] } });
    assert.throws(
      () => hostSplit(two, two),
      (e: unknown) =>
        e instanceof UsageError && /no cluster of Envoy sent a request.*blue, green/.test(e.message),
    );
  });

  it("takes the cluster asked for, and refuses one Envoy does not have", () => {
    const before = counters({ blue: { "a:1": [0, 0] }, green: { "b:1": [0, 0] } });
    const after = counters({ blue: { "a:1": [2, 2] }, green: { "b:1": [3, 3] } });
    assert.deepEqual(
      hostSplit(before, after, "blue").hosts.map((h) => h.name),
      ["a:1"],
    );
    assert.throws(() => hostSplit(before, after, "red"), /no cluster 'red'; its clusters: blue, green/);
  });
});

describe("a report attributed by Envoy's counters", () => {
  const recorded = (): LoadRecorder => {
    const r = new LoadRecorder();
    for (let i = 0; i < 10; i++) r.record({ startMs: i, endMs: i + 1, code: 0 });
    return r;
  };

  it("lists every host, without latency, and the gate counts a host never reached as silent", () => {
    const split = hostSplit(
      counters({ server: { "a:1": [0, 0], "b:1": [0, 0], "c:1": [0, 0] } }),
      counters({ server: { "a:1": [5, 5], "b:1": [5, 5], "c:1": [0, 0] } }),
    );
    const report = reportWithHostSplit(
      recorded().report({ target: "t", concurrency: 1, durationMs: 10 }),
      split,
      "127.0.0.1:9901",
    );
    assert.deepEqual(report.requests, { total: 10, ok: 10, failed: 0 });
    assert.equal(report.attribution, "envoy-counters");
    assert.deepEqual(report.backends, { "a:1": 5, "b:1": 5, "c:1": 0 });
    assert.ok(report.perBackend.every((b) => b.latencyMs === null));
    assert.equal(
      checkBalance(report, { expectBackends: 3, maxImbalancePct: undefined }),
      "balance: 2 backends answered, expected 3 (--expect-backends); 1 never reached",
    );
    assert.match(
      checkBalance(report, { expectBackends: undefined, maxImbalancePct: 50 }) ?? "",
      /least busy 0, infinitely more/,
    );
    assert.equal(checkBalance(report, { expectBackends: 2, maxImbalancePct: undefined }), undefined);
  });
});
