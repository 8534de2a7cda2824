import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { type CallOutcome, LoadRecorder } from "../../src/loadgen/recorder.js";
import { splitEvenly, usableWorkers } from "../../src/loadgen/worker-load.js";

const meta = { target: "127.0.0.1:10000", concurrency: 8, connections: 4, durationMs: 3000 };

/** 3,000 calls over 3 s, 4 connections and 3 backends, with failures of two kinds and a wide latency spread. */
function calls(): CallOutcome[] {
  const out: CallOutcome[] = [];
  for (let i = 0; i < 3000; i++) {
    const startMs = i;
    const latencyMs = 0.05 + ((i * 7919) % 997) * (i % 50 === 0 ? 3.1 : 0.013);
    const connection = { slot: 1 + (i % 4), generation: Math.floor(i / 1000) };
    const c: CallOutcome = { startMs, endMs: startMs + latencyMs, code: status.OK, connection };
    if (i % 97 === 0) out.push({ ...c, code: status.UNAVAILABLE, details: `refused ${i}` });
    else if (i % 211 === 0) out.push({ ...c, code: status.DEADLINE_EXCEEDED, details: `late ${i}` });
    else out.push({ ...c, serverId: `s${i % 3}`, address: `127.77.0.${1 + (i % 3)}:1` });
  }
  return out.sort((a, b) => a.endMs - b.endMs);
}

describe("merging recorders (one per worker thread)", () => {
  it("gives the report one recorder fed every call gives", () => {
    const all = calls();
    const one = new LoadRecorder();
    for (const c of all) one.record(c);
    // Two workers, each with its own connections (slots 1-2 and 3-4), in completion order.
    const parts = [new LoadRecorder(), new LoadRecorder()];
    for (const c of all) parts[(c.connection?.slot ?? 1) <= 2 ? 0 : 1]?.record(c);
    const merged = new LoadRecorder();
    // Through structured clone, as a worker's postMessage delivers it.
    for (const p of parts) merged.merge(structuredClone(p.state()));
    const expected = one.report(meta);
    const got = merged.report(meta);
    assert.deepEqual(got, expected);
    // Not vacuous: the parts alone differ from the whole.
    assert.notDeepEqual(parts[0]?.report(meta).latencyMs, expected.latencyMs);
    assert.equal(expected.requests.total, 3000);
    assert.ok((expected.errorDetails.UNAVAILABLE ?? "").startsWith("refused 0"));
    assert.ok(expected.connectionStats.length === 12);
    // The merged histogram holds every call, each once.
    const counts = merged.state().histogram.filter((_, i) => i % 2 === 1);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      3000,
    );
  });

  it("keeps the earlier call's message when both parts saw a status", () => {
    const a = new LoadRecorder();
    const b = new LoadRecorder();
    a.record({ startMs: 5, endMs: 9, code: status.UNAVAILABLE, details: "later" });
    b.record({ startMs: 1, endMs: 2, code: status.UNAVAILABLE, details: "earlier" });
    const merged = new LoadRecorder();
    merged.merge(a.state());
    merged.merge(b.state());
    assert.deepEqual(merged.report(meta).errorDetails, { UNAVAILABLE: "earlier" });
  });
});

describe("sharing a run among worker threads", () => {
  it("never leaves a worker without a connection, a call in flight or a call to make", () => {
    assert.equal(usableWorkers(8, { connections: 4, concurrency: 32 }), 4);
    assert.equal(usableWorkers(8, { connections: 16, concurrency: 3 }), 3);
    assert.equal(usableWorkers(8, { connections: 16, concurrency: 16, requests: 2 }), 2);
    assert.equal(usableWorkers(2, { connections: 1, concurrency: 1 }), 1);
    assert.equal(usableWorkers(0, { connections: 4, concurrency: 4 }), 1);
  });

  it("splits totals into shares that add up and differ by at most one", () => {
    assert.deepEqual(splitEvenly(32, 2), [16, 16]);
    assert.deepEqual(splitEvenly(7, 3), [3, 2, 2]);
    assert.deepEqual(splitEvenly(4, 4), [1, 1, 1, 1]);
  });
});
