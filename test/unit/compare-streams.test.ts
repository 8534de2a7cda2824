import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labCompare } from "../../src/cli/commands/lab/compare.js";
import { renderSvg } from "../../src/compare/charts.js";
import { resolveCompareOptions } from "../../src/compare/options.js";
import { formatStreamsCompareHtml, streamsCharts } from "../../src/compare/streams-html.js";
import { formatStreamsCompareText, type StreamsCompareReport } from "../../src/compare/streams-report.js";
import { streamsResultOf } from "../../src/compare/streams-result.js";
import type { LabServer } from "../../src/lab/servers.js";
import type { StreamReport } from "../../src/loadgen/streams/stream-report.js";
import { captureContext } from "../helpers.js";
import { streamReport as sharedReport } from "../stream-fixtures.js";

const server = (index: number): LabServer => ({ index, id: `s${index + 1}` }) as LabServer;

/** A stream run's report as startStreamLoad gives it: the samples on its own clock, from 0. */
const streamReport = (over: Partial<StreamReport>): StreamReport =>
  sharedReport({ durationMs: 3500, ...over });

describe("lab compare --workload streams: options", () => {
  it("defaults to unary, and to 30 streams a reply every 100 ms with no kill for streams", () => {
    assert.deepEqual(resolveCompareOptions({}).workload, { kind: "unary" });
    assert.equal(resolveCompareOptions({ durationMs: 4000 }).killAtMs, 2000, "unary keeps its kill");
    const s = resolveCompareOptions({ workload: "streams", durationMs: 4000 });
    assert.deepEqual(s.workload, { kind: "streams", streams: 30, intervalMs: 100 });
    assert.equal(s.killAtMs, null, "streams are about the scale-out: no kill unless asked");
    assert.equal(s.scaleAtMs, 2400);
    const asked = resolveCompareOptions({
      workload: "streams",
      streams: 5,
      streamIntervalMs: 50,
      killAtMs: 1000,
    });
    assert.deepEqual(asked.workload, { kind: "streams", streams: 5, intervalMs: 50 });
    assert.equal(asked.killAtMs, 1000);
  });

  it("refuses a bad workload, and stream counts without the streams workload", () => {
    assert.throws(
      () => resolveCompareOptions({ workload: "bulk" as never }),
      /unknown workload 'bulk'; workloads: unary, streams/,
    );
    assert.throws(
      () => resolveCompareOptions({ streams: 3 }),
      /--streams and --stream-interval-ms need --workload streams/,
    );
    assert.throws(
      () => resolveCompareOptions({ workload: "streams", streams: 0 }),
      /streams must be a positive integer/,
    );
  });

  it("refuses bad flags on the command line before starting anything (usage errors: exit 2)", async () => {
    const { ctx } = captureContext();
    const usage = (argv: string[], re: RegExp) =>
      assert.rejects(labCompare.run(argv, ctx), (e: Error) => e.name === "UsageError" && re.test(e.message));
    await usage(["--workload", "bulk"], /--workload must be one of unary, streams, got 'bulk'/);
    await usage(["--streams", "4"], /need --workload streams/);
    await usage(["--workload", "streams", "--streams", "0"], /--streams must be an integer from 1/);
    await usage(["--workload", "streams", "--stream-interval-ms", "x"], /--stream-interval-ms/);
  });
});

describe("lab compare --workload streams: the report", () => {
  const servers = [server(0), server(1), server(2)];
  const newcomer = server(3);
  const report = streamReport({
    // The run's zero is at 500 ms of the load's clock: every stream open by then.
    samples: [
      { atMs: 100, open: 4, byServer: { s1: 2, s2: 2 } },
      { atMs: 500, open: 6, byServer: { s1: 2, s2: 2, s3: 2 } },
      { atMs: 2600, open: 6, byServer: { s1: 2, s2: 2, s3: 2 } },
      { atMs: 2900, open: 6, byServer: { s1: 2, s2: 1, s3: 2, s4: 1 } },
      { atMs: 3500, open: 5, byServer: { s1: 2, s2: 1, s3: 1, s4: 1 } },
    ],
    messagesByServer: { s1: 60, s2: 50, s3: 55, s4: 8 },
    endsByStatus: { OK: 2, UNAVAILABLE: 1 },
    resumes: 2,
    delivered: 173,
    failedStreams: 1,
    failures: ["stream 6: UNAVAILABLE no healthy upstream"],
  });
  const result = streamsResultOf(
    { kind: "envoy", policy: "ring_hash" },
    {
      servers,
      newcomer,
      startedAtMs: 500,
      atStart: { s1: 2, s2: 2, s3: 2 },
      killAtMs: null,
      joinedAtMs: 2000,
      before: { s1: 2, s2: 2, s3: 2 },
      after: { s1: 2, s2: 1, s3: 1, s4: 1 },
      liveServers: 4,
      report,
    },
  );

  it("reads every server before and after the scale-out, the newcomer's share and first stream", () => {
    assert.deepEqual(
      result.servers.map((s) => [s.label, s.atStart, s.before, s.after, s.messages]),
      [
        ["server 1 (slow)", 2, 2, 2, 60],
        ["server 2", 2, 2, 1, 50],
        ["server 3", 2, 2, 1, 55],
        ["server 4 (new)", 0, 0, 1, 8],
      ],
    );
    assert.deepEqual(result.newcomer, {
      server: 4,
      joinedAtMs: 2000,
      streams: 1,
      sharePct: 16.7,
      fairSharePct: 25,
      // The first sample with a stream on it is at 2900 ms of the load's clock: 2400 into the run.
      firstStreamMs: 400,
    });
    assert.deepEqual([result.openBefore, result.openAfter, result.ended, result.failedStreams], [6, 5, 3, 1]);
    assert.deepEqual(
      result.samples.map((s) => s.atMs),
      [0, 2100, 2400, 3000],
      "samples on the run's clock, none from before every stream was open",
    );
    assert.match(result.description, /no hash key on the streams: a random host per stream/);
  });

  const full: StreamsCompareReport = {
    workload: {
      kind: "streams",
      servers: 3,
      slowServerMs: 20,
      connections: 4,
      streams: 6,
      intervalMs: 100,
      durationMs: 3000,
      killAtMs: null,
      scaleAtMs: 2000,
    },
    envoyVersion: "1.40.0",
    modes: [
      result,
      {
        ...result,
        mode: "l4",
        servers: result.servers.map((s) => ({ ...s, after: s.before })),
        openAfter: 6,
        newcomer: result.newcomer && { ...result.newcomer, streams: 0, sharePct: 0, firstStreamMs: null },
        ended: 0,
        resumes: 0,
        failedStreams: 0,
        failures: [],
      },
    ],
  };

  it("prints a row per mode, the failure in the headline and the table, and says which streams were not open", () => {
    const text = formatStreamsCompareText(full);
    assert.match(text, /^6 streams per mode .*server 4 joins at 2\.0 s; failed streams: 1; Envoy 1\.40\.0$/m);
    assert.match(text, /^envoy-ring_hash +2\/2\/2 -> 2\/1\/1\/1 +16\.7 \(25\.0\) +400 +3 +2 +0 +0 +1$/m);
    assert.match(text, /^l4 +2\/2\/2 -> 2\/2\/2\/0 +0\.0 \(25\.0\) +never +0 +0 +0 +0 +0$/m);
    assert.match(text, /^ {2}envoy-ring_hash: gave up: stream 6: UNAVAILABLE no healthy upstream$/m);
    // 6 streams, 5 open and 1 failed: every stream accounted, none said to be resuming.
    assert.doesNotMatch(text, /resuming at the end/);
    const short = { ...full, modes: [{ ...result, openAfter: 3 }] };
    assert.match(formatStreamsCompareText(short), /envoy-ring_hash: 2 of 6 streams were resuming at the end/);
  });

  it("draws its charts as SVG into a page that fetches nothing", async () => {
    const charts = streamsCharts(full);
    assert.deepEqual(
      charts.map((c) => c.id),
      ["streams-share", "streams-time"],
    );
    for (const c of charts) {
      const svg = await renderSvg(c.spec);
      assert.ok((svg.match(/<path|<rect|<line/g) ?? []).length > 5, `${c.id} draws marks`);
    }
    const html = await formatStreamsCompareHtml(full);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/)/i);
    assert.match(html, /<td>envoy-ring_hash<\/td>.*<td>16\.7 \(25\.0\)<\/td><td>400<\/td>/);
    assert.match(html, /<li>envoy-ring_hash: gave up: stream 6/);
  });
});
