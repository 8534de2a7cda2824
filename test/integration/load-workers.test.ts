import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { LISTENER_NAME } from "../../src/envoy/bootstrap.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import type { LoadReport } from "../../src/loadgen/report.js";
import { expectedCalls } from "../../src/loadgen/schedule.js";
import { startWorkerLoad } from "../../src/loadgen/worker-load.js";
import { startEchoServer } from "../../src/server/server.js";
import { waitFor } from "../../src/util/wait.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

async function load(args: string[]): Promise<{ code: number | null; report: LoadReport; stderr: string }> {
  const run = spawnCli(["load", ...args, "--json"]);
  const { code } = await run.exit;
  const text = run.lines.join("\n");
  assert.ok(text.startsWith("{"), `no JSON report (exit ${code}); stderr:\n${run.stderr()}`);
  return { code, report: JSON.parse(text) as LoadReport, stderr: run.stderr() };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const threads = (): number => readdirSync("/proc/self/task").length;

describe("grpc-lb load --workers through Envoy", () => {
  let cluster: LabCluster;
  before(async () => {
    cluster = await startLabCluster(resolveLabOptions({ servers: 3 }));
  });
  after(async () => {
    await cluster?.stop();
  });

  it("merges the workers' counts into one exact report", async () => {
    const { code, report, stderr } = await load([
      ...["--target", cluster.listenAddress, "--workers", "2"],
      ...["-n", "300", "--connections", "4", "-c", "4", "--expect-backends", "3"],
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /4 connections to \S+ from 2 worker threads up after \d+ ms; sending/);
    assert.deepEqual(report.requests, { total: 300, ok: 300, failed: 0 });
    assert.equal(report.workers?.threads, 2);
    assert.ok((report.workers?.startupMs ?? -1) >= 0);
    // Calls go to the connections in turn, as in one thread: 75 each. Each connection stays on
    // one of Envoy's workers, whose round robin then makes a multiple of 3 picks: 100 each.
    assert.deepEqual(
      report.connectionStats.map((c) => [c.slot, c.generation, c.calls, c.failed]),
      [1, 2, 3, 4].map((slot) => [slot, 0, 75, 0]),
    );
    assert.deepEqual(Object.values(report.backends), [100, 100, 100]);
    for (const c of report.connectionStats) assert.equal(sum(Object.values(c.backends)), 75);
    assert.equal(sum(report.perSecond.map((s) => sum(Object.values(s.backends)) + s.failed)), 300);
    assert.deepEqual(
      report.perBackend.map((b) => b.count),
      [100, 100, 100],
    );
    for (const b of report.perBackend) {
      assert.ok(
        b.latencyMs !== null && b.latencyMs.p50 <= b.latencyMs.p99 && b.latencyMs.p99 <= b.latencyMs.max,
      );
      assert.ok(b.latencyMs.max <= report.latencyMs.max);
    }
    assert.ok(report.durationMs > 0);
  });

  it("keeps an open-loop rate exact in sum, and -n exact with it", async () => {
    const ms = 2000;
    const { report, stderr } = await load([
      ...["--target", cluster.listenAddress, "--workers", "2", "--connections", "4", "-c", "16"],
      ...["--rps", "150", "-z", `${ms}ms`],
    ]);
    const want = expectedCalls({ kind: "const", rps: 150 }, ms);
    const n = report.requests.total;
    assert.ok(n <= want && n >= want * 0.4, `${n} calls, the schedule says ${want}; ${stderr}`);
    assert.equal(report.requests.failed, 0);
    const bounded = await load([
      ...["--target", cluster.listenAddress, "--workers", "2", "--connections", "2", "-c", "4"],
      ...["--rps", "400", "-n", "101"],
    ]);
    assert.equal(bounded.report.requests.total, 101);
    assert.deepEqual(
      bounded.report.connectionStats.map((c) => c.calls),
      [51, 50],
    );
  });

  it("counts by Envoy's counters read around all the workers", async () => {
    const { code, report, stderr } = await load([
      ...["--target", cluster.listenAddress, "--workers", "2", "--connections", "2", "-c", "2"],
      ...["--envoy-admin", cluster.envoy.adminAddress, "-n", "60", "--expect-backends", "3"],
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(report.attribution, "envoy-counters");
    assert.equal(report.workers?.threads, 2);
    assert.equal(report.envoyCounters?.counted, 60);
    assert.equal(sum(Object.values(report.backends)), 60);
  });

  it("stops every worker on abort: no thread or connection left, the report says interrupted", async () => {
    const active = async (): Promise<number> =>
      (await cluster.envoy.admin.stat(`http.${LISTENER_NAME}.downstream_cx_active`)) ?? -1;
    const connectionsBefore = await active();
    const threadsBefore = threads();
    const ac = new AbortController();
    const run = startWorkerLoad({
      target: cluster.listenAddress,
      workers: 2,
      connections: 4,
      concurrency: 8,
      durationMs: 60_000,
      signal: ac.signal,
      cancelOnAbort: true,
    });
    await waitFor("calls to finish", () => (run.progress().ok >= 50 ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    assert.equal(threads(), threadsBefore + 2, "one thread per worker while running");
    const t0 = performance.now();
    ac.abort();
    const report = await run.done;
    assert.ok(performance.now() - t0 < 1000, "stopped within 1 s");
    assert.equal(report.interrupted, true);
    assert.ok(report.requests.ok >= 50);
    assert.equal(sum(report.connectionStats.map((c) => c.calls)), report.requests.total);
    assert.equal(threads(), threadsBefore, "every worker thread has ended");
    await waitFor(
      "Envoy to see the connections closed",
      async () => ((await active()) === connectionsBefore ? true : undefined),
      { timeoutMs: 2000 },
    );
  });

  it("rejects --workers 0 and more workers than connections with exit 2", async () => {
    const bad: [string[], RegExp][] = [
      [["--workers", "0"], /--workers must be/],
      [["--workers", "3", "--connections", "2", "-c", "8"], /--workers 3 needs at least 3 connections/],
      [["--workers", "2", "--connections", "4"], /--workers 2 needs at least 2 connections and -c 2/],
    ];
    for (const [flags, message] of bad) {
      const run = spawnCli(["load", "--target", cluster.listenAddress, ...flags]);
      assert.equal((await run.exit).code, 2, flags.join(" "));
      assert.match(run.stderr(), message);
    }
  });
});

describe("grpc-lb load --workers on Ctrl-C", () => {
  it("exits 130 within 1 s with a report of the calls made, in-flight calls cancelled", async () => {
    const server = await startEchoServer({ port: 0, delayMs: 200 });
    try {
      const run = spawnCli([
        ...["load", "--target", server.address, "--workers", "2", "--connections", "2", "-c", "4"],
        ...["-z", "60s", "--json"],
      ]);
      await waitFor("load to start sending", () => (/sending/.test(run.stderr()) ? true : undefined), {
        timeoutMs: 20_000,
      });
      const t0 = performance.now();
      run.child.kill("SIGINT");
      const { code } = await run.exit;
      const ms = performance.now() - t0;
      assert.equal(code, 130, run.stderr());
      assert.ok(ms < 1000, `exited ${Math.round(ms)} ms after SIGINT`);
      const report = JSON.parse(run.lines.join("\n")) as LoadReport;
      assert.equal(report.interrupted, true);
      assert.equal(report.workers?.threads, 2);
      // The calls Ctrl-C cancelled are counted apart, never as failures.
      assert.ok((report.cancelledByInterrupt ?? 0) > 0, JSON.stringify(report));
      assert.equal(report.requests.failed, 0, JSON.stringify(report.statuses));
    } finally {
      await server.stop();
    }
  });
});
