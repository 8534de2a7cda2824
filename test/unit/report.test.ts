import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { formatReportText } from "../../src/loadgen/format-text.js";
import { LoadRecorder } from "../../src/loadgen/recorder.js";
import { statusName } from "../../src/loadgen/report.js";

const meta = { target: "127.0.0.1:10000", concurrency: 4, durationMs: 1234.5678 };

describe("load report arithmetic", () => {
  it("counts replies per backend and failures per status", () => {
    const r = new LoadRecorder();
    for (let i = 0; i < 34; i++) r.recordOk("a", "127.77.0.1:1", 1000);
    for (let i = 0; i < 33; i++) r.recordOk("b", "127.77.0.2:1", 1000);
    for (let i = 0; i < 30; i++) r.recordOk("c", "127.77.0.3:1", 1000);
    r.recordError(status.UNAVAILABLE, 500);
    r.recordError(status.UNAVAILABLE, 500);
    r.recordError(status.DEADLINE_EXCEEDED, 5000);
    const report = r.report(meta);
    assert.deepEqual(report.requests, { total: 100, ok: 97, failed: 3 });
    assert.deepEqual(report.backends, { a: 34, b: 33, c: 30 });
    assert.deepEqual(report.errors, { DEADLINE_EXCEEDED: 1, UNAVAILABLE: 2 });
    assert.equal(report.backendAddresses.b, "127.77.0.2:1");
    assert.equal(report.durationMs, 1234.568);
    assert.equal(report.concurrency, 4);
  });

  it("reports percentiles of all latencies within HDR precision", () => {
    const r = new LoadRecorder();
    // 1 ms … 100 ms, shuffled: the percentiles must not depend on order.
    const values = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000).sort(
      (a, b) => ((a * 7919) % 101) - ((b * 7919) % 101),
    );
    for (const v of values) r.recordOk("a", "x", v);
    const { latencyMs } = r.report(meta);
    const near = (actual: number, expected: number) =>
      assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${actual} ≉ ${expected}`);
    near(latencyMs.p50, 50);
    near(latencyMs.p90, 90);
    near(latencyMs.p99, 99);
    near(latencyMs.max, 100);
    near(latencyMs.mean, 50.5);
  });

  it("reports zeros, not NaN, when nothing ran", () => {
    const report = new LoadRecorder().report(meta);
    assert.deepEqual(report.requests, { total: 0, ok: 0, failed: 0 });
    assert.deepEqual(report.latencyMs, { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 });
    assert.match(formatReportText(report), /no backend answered/);
  });

  it("names gRPC status codes", () => {
    assert.equal(statusName(14), "UNAVAILABLE");
    assert.equal(statusName(8), "RESOURCE_EXHAUSTED");
    assert.equal(statusName(99), "CODE_99");
  });

  it("prints one bar per backend, biggest first, and the sorted split", () => {
    const r = new LoadRecorder();
    for (const [id, n] of [
      ["b", 33],
      ["a", 34],
      ["c", 33],
    ] as const)
      for (let i = 0; i < n; i++) r.recordOk(id, `${id}:1`, 100);
    const text = formatReportText(r.report(meta));
    const rows = text.split("\n").filter((l) => /█/.test(l));
    assert.equal(rows.length, 3);
    assert.match(rows[0] ?? "", /^ {2}a /);
    assert.match(text, /3 backends answered 100 of 100 requests: 33\/33\/34/);
    assert.match(text, /ok 100, failed 0\n/);
  });
});

describe("percentiles never exceed the maximum", () => {
  it("clamps a percentile that falls in the maximum's HDR bucket", () => {
    const r = new LoadRecorder();
    // 14 945 µs sits in a bucket whose top is above it.
    for (const us of [1000, 2000, 14_945]) r.recordOk("a", "x", us);
    const { latencyMs } = r.report(meta);
    assert.equal(latencyMs.max, 14.945);
    assert.ok(latencyMs.p99 <= latencyMs.max, `p99 ${latencyMs.p99} > max ${latencyMs.max}`);
  });
});
