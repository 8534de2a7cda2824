import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { StreamsCompareReport } from "../../src/compare/streams-report.js";
import type { CompareStreamsModeResult } from "../../src/compare/streams-result.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

const MODES = ["l4", "envoy-round_robin", "proxyless-round_robin"];
/** Small: enough for round robin to reach every server, few enough to open at once on a busy machine. */
const STREAMS = 9;
/** The kill ends server 2's streams; the newcomer joins a second later, once they have resumed elsewhere. */
const DURATION_MS = 3000;
const KILL_AT_MS = 1000;
const SCALE_AT_MS = 2000;

describe("grpc-lb lab compare --workload streams on real processes", () => {
  let dir: string;
  let report: StreamsCompareReport;
  let text: string;
  let html: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grpc-lb-compare-streams-"));
    const run = spawnCli([
      "lab",
      "compare",
      "--workload",
      "streams",
      "--modes",
      MODES.join(","),
      "--streams",
      String(STREAMS),
      "--duration-ms",
      String(DURATION_MS),
      "--kill-at-ms",
      String(KILL_AT_MS),
      "--scale-at-ms",
      String(SCALE_AT_MS),
      "--output",
      join(dir, "report.json"),
      "--html",
      join(dir, "report.html"),
    ]);
    const { code } = await run.exit;
    assert.equal(code, 0, `lab compare --workload streams failed; stderr:\n${run.stderr()}`);
    text = run.lines.join("\n");
    report = JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as StreamsCompareReport;
    html = await readFile(join(dir, "report.html"), "utf8");
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const mode = (name: string): CompareStreamsModeResult => {
    const m = report.modes.find((x) => x.mode === name);
    assert.ok(m, `mode ${name} in the report`);
    return m;
  };

  it("accounts for every stream in every mode: none failed, no reply lost or repeated", () => {
    assert.deepEqual(
      report.modes.map((m) => m.mode),
      MODES,
    );
    assert.match(text, /failed streams: 0;/, "the headline counts the failed streams");
    for (const m of report.modes) {
      assert.equal(m.failedStreams, 0, `${m.mode}: no stream gave up (${m.failures.join("; ")})`);
      assert.equal(m.openAfter, STREAMS, `${m.mode}: every stream open at the end`);
      assert.equal(m.openBefore, STREAMS, `${m.mode}: every stream open when the newcomer joined`);
      assert.equal(m.lost, 0, `${m.mode}: no reply lost`);
      assert.equal(m.duplicated, 0, `${m.mode}: no reply received twice`);
      assert.ok(m.delivered >= STREAMS * 10, `${m.mode}: replies flowed (${m.delivered})`);
    }
  });

  it("moves the streams the kill ended: each resumes on a live server", () => {
    for (const m of report.modes) {
      const victim = m.servers.find((s) => s.server === 2);
      assert.ok(victim);
      assert.equal(victim.before, 0, `${m.mode}: no stream left on the killed server`);
      assert.ok(m.ended >= victim.atStart, `${m.mode}: its ${victim.atStart} streams ended (${m.ended})`);
      assert.equal(m.resumes, m.ended, `${m.mode}: each ended stream resumed`);
    }
    const rr = mode("envoy-round_robin");
    for (const s of rr.servers.filter((x) => x.server <= 3))
      assert.ok(s.atStart > 0, `Envoy round robin gave ${s.label} streams: ${s.atStart}`);
  });

  it("leaves the newcomer without a stream: per-stream balancing does not move streams that live on", () => {
    for (const m of report.modes) {
      const n = m.newcomer;
      assert.ok(n, `${m.mode}: the scale-out is reported`);
      assert.equal(n.server, 4);
      // A timer may fire a millisecond early by the load's clock.
      assert.ok(n.joinedAtMs >= SCALE_AT_MS - 5, `${m.mode}: joined at ${n.joinedAtMs} ms`);
      assert.deepEqual(
        [n.streams, n.sharePct, n.firstStreamMs],
        [0, 0, null],
        `${m.mode}: the newcomer got no stream (${JSON.stringify(n)})`,
      );
      assert.equal(n.fairSharePct, 33.3, "its fair share: one of three live servers");
      assert.deepEqual(
        m.servers.map((s) => s.after),
        m.servers.map((s) => s.before),
        `${m.mode}: no stream moved after the scale-out`,
      );
    }
    assert.match(text, /^l4 +\S+ -> \S+\/0 +0\.0 \(33\.3\) +never /m, "the table shows the newcomer at 0");
  });

  it("writes the same as a page with its two charts drawn in, fetching nothing", () => {
    for (const id of ["streams-share", "streams-time"])
      assert.match(
        html,
        new RegExp(`<figure id="chart-${id}" class="chart"><figcaption>[^<]+</figcaption><svg `),
      );
    assert.match(html, /<td>proxyless-round_robin<\/td>/);
    assert.doesNotMatch(
      html,
      /<script|https?:\/\/(?!www\.w3\.org\/)/i,
      "no script and no URL but SVG namespaces",
    );
  });
});
