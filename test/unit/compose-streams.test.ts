import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composePreset } from "../../src/deploy/presets.js";
import { composeStreamsBudgets, drainDelayMsOf } from "../../src/engines/compose/scenarios/streams-plan.js";
import { engineBudgets } from "../../src/envoy/budgets.js";
import { resolveEnvoyConfigOptions } from "../../src/envoy/options.js";
import { DEFAULT_STREAMS_TIMINGS } from "../../src/lab/scenarios/streams-strategies.js";
import type { StreamLoadRun } from "../../src/loadgen/streams/stream-load.js";
import type { StreamReport, StreamSample } from "../../src/loadgen/streams/stream-report.js";
import { countsBetween, movedOffMs, spreadOverTime } from "../../src/scenarios/stream-phases.js";
import { StreamPhaseTracker } from "../../src/scenarios/stream-tracker.js";
import { type StreamsPhaseResult, streamsOutcome } from "../../src/scenarios/streams-outcome.js";
import { waitFor } from "../../src/util/wait.js";
import { streamReport } from "../stream-fixtures.js";

const at = (atMs: number, byServer: Record<string, number>): StreamSample => ({
  atMs,
  open: Object.values(byServer).reduce((a, b) => a + b, 0),
  byServer,
});

const report = (over: Partial<StreamReport> = {}): StreamReport =>
  streamReport({
    target: "127.0.0.1:10000",
    maxLifetimeMs: 6000,
    durationMs: 4000,
    samples: [at(0, { a: 3, b: 3 }), at(1000, { a: 3, b: 2, c: 1 }), at(2000, { a: 2, b: 2, c: 2 })],
    endsByStatus: { OK: 4 },
    resumes: 4,
    delivered: 240,
    ...over,
  });

const counts = countsBetween(undefined, report());
const phase = (over: Partial<StreamsPhaseResult> = {}): StreamsPhaseResult => ({
  phase: "2 → 3 replicas",
  key: "scaleOut",
  fromMs: 0,
  toMs: 2500,
  servers: ["a", "b", "c"],
  fairShare: { ms: 2000, budgetMs: 3000, since: "after the last new one was ready" },
  counts,
  ...over,
});

describe("compose scenario streams: its plan", () => {
  it("reads the drain delay from a server's arguments, 0 when it has none", () => {
    assert.equal(drainDelayMsOf(["serve", "--port", "50051", "--drain-delay-ms", "10000"]), 10_000);
    assert.equal(drainDelayMsOf(["serve", "--drain-delay-ms=2500"]), 2500);
    assert.equal(drainDelayMsOf(["serve", "--drain-delay-ms", "soon", "--drain-delay-ms", "300"]), 300);
    assert.equal(drainDelayMsOf(["serve", "--port", "50051"]), 0);
  });

  it("derives each phase's budget from the Compose config's timings, the lifetime and the drain", () => {
    const b = composeStreamsBudgets(
      DEFAULT_STREAMS_TIMINGS,
      engineBudgets(resolveEnvoyConfigOptions(composePreset.envoy)),
      10_000,
    );
    // 1400 ms of slack (2 x 100 interval, 2 x 100 sampling, 1 s); join 8250, detection 9250, lifetime 6000.
    assert.deepEqual(b, {
      initialMs: 7400,
      scaleOutMs: 15_650,
      stopMoveMs: 11_400,
      stopFairMs: 16_650,
      settleMs: 1400,
    });
  });
});

describe("streams over phases", () => {
  it("gives the fewest and most streams per server once a step", () => {
    const samples = [at(0, { a: 3, b: 3 }), at(400, { a: 4, b: 2 }), at(1000, { a: 2, b: 2, c: 2 })];
    assert.deepEqual(spreadOverTime(samples, 0, 1500, ["a", "b", "c"], 500), {
      fewest: [0, 2, 2],
      most: [3, 2, 2],
    });
  });

  it("ends with the window's last sample, so that the spread shows where the phase ended", () => {
    const samples = [
      at(0, { a: 6 }),
      at(1000, { a: 4, b: 2 }),
      at(1400, { a: 3, b: 3 }),
      at(1600, { a: 2, b: 4 }),
    ];
    assert.deepEqual(spreadOverTime(samples, 0, 1500, ["a", "b"]), { fewest: [0, 2, 3], most: [6, 4, 3] });
  });

  it("times a gone server's streams open elsewhere from its last one, not a passing zero", () => {
    const samples = [
      at(0, { a: 3, b: 3 }),
      at(100, { a: 6 }),
      at(200, { a: 5, b: 1 }),
      at(300, { a: 5 }),
      at(400, { a: 6 }),
    ];
    assert.equal(movedOffMs(samples, ["b"], 50, 6), 350);
    assert.equal(movedOffMs(samples.slice(0, 4), ["b"], 50, 6), undefined);
    assert.equal(movedOffMs(samples, ["c"], 50, 6), 50);
  });

  it("counts what became of the streams between two reports", () => {
    const from = report({ endsByStatus: { OK: 2 }, resumes: 2, delivered: 100 });
    const to = report({ endsByStatus: { OK: 5, INTERNAL: 1 }, resumes: 6, delivered: 180, lost: 1 });
    assert.deepEqual(countsBetween(from, to), {
      ended: 4,
      endedNotOk: 1,
      resumes: 4,
      delivered: 80,
      lost: 1,
      duplicated: 0,
    });
  });
});

describe("the streams scenario's verdict", () => {
  it("passes with every phase in budget and counts each Subscribe call in the headline", () => {
    const o = streamsOutcome([phase()], report(), { streamLifetimeMs: 6000 });
    assert.ok(
      o.checks.every((c) => c.ok),
      JSON.stringify(o.checks),
    );
    assert.deepEqual(o.requests, { total: 10, ok: 10, failed: 0, errors: {} });
    assert.deepEqual(o.distributions, [
      { phase: "2 → 3 replicas: streams per server at its end", backends: { a: 2, b: 2, c: 2 } },
    ]);
    assert.deepEqual(o.measurements["scaleOut.mostStreamsPerServerEachSecond"], [3, 3, 2]);
    assert.equal(o.measurements.streamLifetimeMs, 6000);
  });

  it("fails its headline on a stream that ended with an error, a loss, a duplicate or one given up", () => {
    for (const over of [
      { endsByStatus: { OK: 3, INTERNAL: 1 } },
      { lost: 1 },
      { duplicated: 2 },
      { failedStreams: 1, failures: ["stream 2: UNIMPLEMENTED"] },
    ]) {
      const o = streamsOutcome([phase()], report(over), {});
      assert.equal(o.checks[0]?.ok, false, JSON.stringify(over));
    }
    const o = streamsOutcome([phase()], report({ endsByStatus: { OK: 3, INTERNAL: 1 } }), {});
    assert.deepEqual(o.requests, { total: 10, ok: 9, failed: 1, errors: { INTERNAL: 1 } });
    assert.match(o.checks[0]?.detail ?? "", /1 of 10 Subscribe calls failed \(INTERNAL 1\)/);
  });

  it("fails a phase whose fair share came late or never, or whose streams never moved", () => {
    const late = streamsOutcome(
      [phase({ fairShare: { ms: 3500, budgetMs: 3000, since: "x" } })],
      report(),
      {},
    );
    assert.equal(late.checks[1]?.ok, false);
    const never = streamsOutcome(
      [phase({ fairShare: { ms: undefined, budgetMs: 3000, since: "x" } })],
      report(),
      {},
    );
    assert.equal(never.checks[1]?.ok, false);
    assert.equal(never.measurements["scaleOut.fairShareMs"], -1);
    const stuck = streamsOutcome([phase({ moved: { ms: undefined, what: "moved" } })], report(), {});
    assert.equal(stuck.checks[2]?.ok, false);
  });
});

describe("the stream phase tracker", () => {
  it("waits on the samples, judges fair share on the named servers only, and closes phases", async () => {
    const samples: StreamSample[] = [at(0, { a: 2, b: 2, c: 2 })];
    let now = 0;
    const run = {
      now: () => now,
      samples,
      snapshot: () => report({ samples: [...samples], resumes: samples.length }),
    } as unknown as StreamLoadRun;
    const track = new StreamPhaseTracker(run, 6, (what, check, timeoutMs = 1000) =>
      waitFor(what, check, { timeoutMs, intervalMs: 1 }),
    );
    // 3 + 3 on a and b is fair for them, but c still holds streams.
    assert.equal(track.fairOn(["a", "b"])(at(1, { a: 2, b: 2, c: 2 })), false);
    assert.equal(track.fairOn(["a", "b"])(at(1, { a: 3, b: 3 })), true);
    now = 500;
    samples.push(at(400, { a: 3, b: 3 }));
    assert.equal(await track.until("fair", track.fairOn(["a", "b"]), 100, 1000), 300);
    assert.equal(await track.until("never", track.fairOn(["c"]), 100, 0), undefined);
    track.end({ phase: "one", key: "one", servers: ["a", "b"] });
    now = 900;
    track.end({ phase: "two", key: "two", servers: ["a"] });
    assert.deepEqual(
      track.phases.map((p) => [p.fromMs, p.toMs, p.counts.resumes]),
      [
        [0, 500, 2],
        [500, 900, 0],
      ],
    );
  });
});
