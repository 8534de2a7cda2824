import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { formatReportCsv } from "../../src/loadgen/format-csv.js";
import { formatReportHtml } from "../../src/loadgen/format-html.js";
import { formatReportJson } from "../../src/loadgen/format-json.js";
import { formatReportText } from "../../src/loadgen/format-text.js";
import { checkBalance } from "../../src/loadgen/gate.js";
import { LoadRecorder } from "../../src/loadgen/recorder.js";
import { imbalanceOf, statusName } from "../../src/loadgen/report.js";
import { expectedCalls, rateAt } from "../../src/loadgen/schedule.js";

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

describe("the one recorder", () => {
  const outcome = (serverId: string | undefined, endMs: number, slot = 1, generation = 0) => ({
    startMs: endMs - 2,
    endMs,
    code: serverId === undefined ? status.UNAVAILABLE : status.OK,
    ...(serverId === undefined ? {} : { serverId, address: `${serverId}:1` }),
    connection: { slot, generation },
  });

  it("counts per second by end time, per connection, and per backend with its own latency", () => {
    const r = new LoadRecorder();
    r.record(outcome("a", 100));
    r.record(outcome("a", 900, 2));
    r.record(outcome("b", 1500, 2));
    r.record(outcome(undefined, 1600, 2, 1));
    r.record({ startMs: 1000, endMs: 1050, code: status.OK, serverId: "b", address: "b:1" });
    const report = r.report(meta);
    assert.deepEqual(report.perSecond, [
      { second: 0, backends: { a: 2 }, failed: 0 },
      { second: 1, backends: { b: 2 }, failed: 1 },
    ]);
    assert.deepEqual(
      report.connectionStats.map((c) => [c.slot, c.generation, c.calls, c.failed, c.backends]),
      [
        [1, 0, 1, 0, { a: 1 }],
        [2, 0, 2, 0, { a: 1, b: 1 }],
        [2, 1, 1, 1, {}],
      ],
    );
    assert.deepEqual(
      report.perBackend.map((b) => [b.serverId, b.count, b.sharePct, b.latencyMs?.p50, b.latencyMs?.max]),
      [
        ["a", 2, 50, 2, 2],
        ["b", 2, 50, 2, 50],
      ],
    );
    assert.deepEqual(report.statuses, { OK: 4, UNAVAILABLE: 1 });
    assert.deepEqual(report.errors, { UNAVAILABLE: 1 });
  });

  it("measures imbalance as max/min and coefficient of variation", () => {
    assert.deepEqual(imbalanceOf([100, 100, 100]), { maxMinRatio: 1, cv: 0 });
    assert.deepEqual(imbalanceOf([50, 100]), { maxMinRatio: 2, cv: 0.333 });
    assert.deepEqual(imbalanceOf([90], 2), { maxMinRatio: Number.POSITIVE_INFINITY, cv: 1 });
    assert.deepEqual(imbalanceOf([]), { maxMinRatio: null, cv: 0 });
  });
});

describe("the balance gate", () => {
  const reportOf = (counts: number[]) => {
    const r = new LoadRecorder();
    counts.forEach((n, i) => {
      for (let k = 0; k < n; k++) r.recordOk(`s${i}`, "x", 100);
    });
    return r.report(meta);
  };

  it("passes an even split and explains each miss in one line", () => {
    const gate = { expectBackends: 3, maxImbalancePct: 5 };
    assert.equal(checkBalance(reportOf([33, 33, 34]), gate), undefined);
    assert.equal(
      checkBalance(reportOf([100]), gate),
      "balance: 1 backend answered, expected 3 (--expect-backends)",
    );
    assert.equal(
      checkBalance(reportOf([30, 30, 40]), gate),
      "balance: the busiest backend answered 40 calls and the least busy 30, 33.3% more, above --max-imbalance 5%",
    );
    assert.match(
      checkBalance(reportOf([50, 50]), { expectBackends: undefined, maxImbalancePct: 0 }) ?? "pass",
      /^pass$/,
    );
  });

  it("counts expected but silent backends as zero for --max-imbalance alone", () => {
    const reason = checkBalance(reportOf([50, 50]), { expectBackends: undefined, maxImbalancePct: 10 });
    assert.equal(reason, undefined);
    assert.match(
      checkBalance(reportOf([]), { expectBackends: undefined, maxImbalancePct: 10 }) ?? "",
      /no backend answered/,
    );
  });
});

describe("report formats", () => {
  const r = new LoadRecorder();
  r.record({ startMs: 0, endMs: 1, code: status.OK, serverId: 'we"ird,<id>', address: "a:1" });
  r.record({ startMs: 0, endMs: 1, code: status.UNAVAILABLE });
  const report = r.report(meta);

  it("quotes CSV fields as RFC 4180 says", () => {
    const csv = formatReportCsv(report);
    const rows = csv.split("\r\n");
    assert.equal(rows.at(-1), "");
    assert.equal(rows[1], 'backend,,,,"we""ird,<id>",a:1,,1,100,1,1,server-id');
    assert.ok(rows.includes("status,,,,,,UNAVAILABLE,1,,,,"));
    assert.ok(rows.includes("second,0,,,,,FAILED,1,,,,"));
  });

  it("escapes HTML and keeps the page self-contained", () => {
    const html = formatReportHtml(report);
    assert.ok(html.includes("<td>we&#34;ird,&#60;id&#62;</td>"));
    assert.doesNotMatch(html, /<id>|<script|src=|href=/);
  });

  it("prints JSON that parses back to the report", () => {
    assert.deepEqual(JSON.parse(formatReportJson(report)), report);
  });
});

describe("rate schedules", () => {
  it("const, step and line give the rates of ghz's schedules", () => {
    assert.equal(rateAt({ kind: "closed" }, 5000), undefined);
    assert.equal(rateAt({ kind: "const", rps: 40 }, 5000), 40);
    const step = {
      kind: "step",
      startRps: 10,
      stepRps: 10,
      stepDurationMs: 1000,
      endRps: 30,
      maxRampMs: null,
    } as const;
    assert.deepEqual(
      [0, 999, 1000, 2500, 9000].map((t) => rateAt(step, t)),
      [10, 10, 20, 30, 30],
    );
    const down = { kind: "line", startRps: 100, stepRps: -20, endRps: 50, maxRampMs: 2000 } as const;
    assert.deepEqual(
      [0, 500, 2000, 2100, 9000].map((t) => rateAt(down, t)),
      [100, 90, 60, 60, 60],
    );
  });

  it("counts the calls an ideal schedule starts", () => {
    assert.equal(expectedCalls({ kind: "const", rps: 100 }, 2000), 200);
    const step = {
      kind: "step",
      startRps: 20,
      stepRps: 40,
      stepDurationMs: 500,
      endRps: null,
      maxRampMs: null,
    } as const;
    // 10 + 30 + 50 + 70 calls in four half-second steps.
    assert.equal(expectedCalls(step, 2000), 160);
  });
});
