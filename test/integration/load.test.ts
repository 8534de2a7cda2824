import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { LoadError } from "../../src/errors.js";
import type { EchoReply } from "../../src/generated/lbdemo/v1/EchoReply.js";
import type { EchoRequest__Output } from "../../src/generated/lbdemo/v1/EchoRequest.js";
import { startPacedLoad } from "../../src/loadgen/paced-load.js";
import type { LoadReport } from "../../src/loadgen/report.js";
import { runLoad } from "../../src/loadgen/run-load.js";
import { expectedCalls, type Schedule } from "../../src/loadgen/schedule.js";
import { cliEntry } from "../../src/paths.js";
import { echoPackage } from "../../src/proto/echo-package.js";
import { startEchoServer } from "../../src/server/server.js";
import { waitFor } from "../../src/util/wait.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

describe("the load client", () => {
  it("counts every reply against the one server that answered", async () => {
    const server = await startEchoServer({ port: 0 });
    try {
      const report = await runLoad({ target: server.address, requests: 50, concurrency: 5 });
      assert.deepEqual(report.requests, { total: 50, ok: 50, failed: 0 });
      assert.deepEqual(report.backends, { [server.id]: 50 });
      assert.equal(report.backendAddresses[server.id], server.address);
      assert.ok(report.latencyMs.p50 > 0 && report.latencyMs.p50 <= report.latencyMs.p99);
      assert.ok(report.latencyMs.p99 <= report.latencyMs.max);
    } finally {
      await server.stop();
    }
  });

  it("fails fast and clearly when nothing listens at the target", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await assert.rejects(
      runLoad({ target: `127.0.0.1:${port}`, requests: 1, connectTimeoutMs: 300 }),
      (e: unknown) => {
        assert.ok(e instanceof LoadError);
        assert.match(e.message, new RegExp(`^load: cannot connect to 127\\.0\\.0\\.1:${port} within 300 ms`));
        return true;
      },
    );
  });

  it("prints the JSON report and exits 0 through the CLI", async () => {
    const server = await startEchoServer({ port: 0 });
    try {
      const run = spawnCli(["load", "--target", server.address, "-n", "20", "-c", "2", "--json"]);
      assert.equal((await run.exit).code, 0, run.stderr());
      const report = JSON.parse(run.lines.join("\n")) as LoadReport;
      assert.deepEqual(report.requests, { total: 20, ok: 20, failed: 0 });
      assert.deepEqual(report.backends, { [server.id]: 20 });
      assert.deepEqual(report.errors, {});
      for (const k of ["p50", "p90", "p99", "max"] as const)
        assert.equal(typeof report.latencyMs[k], "number");
    } finally {
      await server.stop();
    }
  });

  it("exits 1 with one line when the target is unreachable", async () => {
    const run = spawnCli(["load", "--target", "127.0.0.1:1", "--connect-timeout-ms", "300"]);
    assert.equal((await run.exit).code, 1);
    assert.match(run.stderr(), /^grpc-lb: load: cannot connect to 127\.0\.0\.1:1 within 300 ms/);
  });
});

/** An Echo server that remembers each call's peer (client address:port) and headers. */
async function startRecordingServer() {
  const calls: { peer: string; headers: Record<string, string> }[] = [];
  const server = new Server();
  server.addService(echoPackage().grpc.lbdemo.v1.Echo.service, {
    Echo(call: ServerUnaryCall<EchoRequest__Output, EchoReply>, callback: sendUnaryData<EchoReply>) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      calls.push({ peer: call.getPeer(), headers });
      callback(null, {
        message: call.request.message,
        server_id: "recorder",
        address: "127.0.0.1",
        sequence: 0,
      });
    },
    EchoStream() {},
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { calls, address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

async function loadJson(args: string[]) {
  const run = spawnCli(["load", ...args, "--json"]);
  const { code } = await run.exit;
  assert.equal(code, 0, run.stderr());
  return JSON.parse(run.lines.join("\n")) as LoadReport;
}

describe("grpc-lb load against servers directly", () => {
  it("--connections N opens N connections, and headers reach the server", async () => {
    const server = await startRecordingServer();
    try {
      const report = await loadJson([
        ...["--target", server.address, "-n", "40", "-c", "4", "--connections", "4"],
        ...["--metadata", "tenant=blue", "--metadata", "x-note=a=b", "--hash-key-space", "4"],
      ]);
      assert.equal(report.requests.ok, 40);
      assert.equal(new Set(server.calls.map((c) => c.peer)).size, 4, "4 distinct client ports");
      assert.ok(server.calls.every((c) => c.headers.tenant === "blue" && c.headers["x-note"] === "a=b"));
      const keys = server.calls.map((c) => c.headers["x-hash-key"]);
      assert.deepEqual([...new Set(keys)].sort(), ["key-0", "key-1", "key-2", "key-3"]);
      assert.equal(keys.filter((k) => k === "key-0").length, 10);
    } finally {
      server.stop();
    }
  });

  it("keeps rate schedules within a loose bound on counts", async () => {
    const server = await startEchoServer({ port: 0 });
    try {
      const cases: [string[], Schedule, number][] = [
        [["--rps", "100"], { kind: "const", rps: 100 }, 2000],
        [
          [
            "--load-schedule",
            "step",
            "--load-start",
            "20",
            "--load-step",
            "40",
            "--load-step-duration",
            "500ms",
          ],
          { kind: "step", startRps: 20, stepRps: 40, stepDurationMs: 500, endRps: null, maxRampMs: null },
          2000,
        ],
        [
          ["--load-schedule", "line", "--load-start", "20", "--load-step", "60", "--load-end", "110"],
          { kind: "line", startRps: 20, stepRps: 60, endRps: 110, maxRampMs: null },
          2000,
        ],
      ];
      for (const [flags, schedule, ms] of cases) {
        const report = await loadJson(["--target", server.address, ...flags, "-z", `${ms}ms`, "-c", "16"]);
        const want = expectedCalls(schedule, ms);
        assert.deepEqual(report.schedule, schedule);
        const n = report.requests.total;
        // Never more than the schedule. A starved machine (CI's two cores, busy) starts fewer,
        // so the floor is loose: well past what the starting rate alone would give.
        const floor = Math.max(want * 0.4, "startRps" in schedule ? (schedule.startRps * ms) / 1000 + 1 : 0);
        assert.ok(n <= want && n >= floor, `${flags.join(" ")}: ${n} calls, schedule says ${want}`);
      }
    } finally {
      await server.stop();
    }
  });

  it("writes csv and html reports to --output, nothing to stdout", async () => {
    const server = await startEchoServer({ port: 0 });
    const dir = await mkdtemp(join(tmpdir(), "grpc-lb-load-"));
    try {
      for (const format of ["csv", "html"]) {
        const file = join(dir, `report.${format}`);
        const run = spawnCli([
          "load",
          "--target",
          server.address,
          "-n",
          "10",
          "--format",
          format,
          "--output",
          file,
        ]);
        assert.equal((await run.exit).code, 0, run.stderr());
        assert.deepEqual(run.lines, []);
        const text = await readFile(file, "utf8");
        if (format === "csv") {
          assert.match(text, /^section,second,slot,generation,server_id,/);
          assert.ok(text.includes(`backend,,,,${server.id},${server.address},,10,100,`));
        } else {
          assert.match(text, /^<!doctype html>/);
          assert.ok(text.includes(`<td>${server.id}</td>`));
          assert.doesNotMatch(text, /<script|src=|href=/);
        }
      }
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("shows a progress line on a terminal only, once the run is past a few seconds", async () => {
    const server = await startEchoServer({ port: 0 });
    const dir = await mkdtemp(join(tmpdir(), "grpc-lb-load-"));
    try {
      const args = [
        "load",
        "--target",
        server.address,
        "-z",
        "4500ms",
        "--rps",
        "50",
        "--output",
        join(dir, "r.txt"),
      ];
      // script(1) gives the command a terminal; its output is what the terminal showed.
      const tty = spawn("script", ["-qec", [process.execPath, cliEntry, ...args].join(" "), "/dev/null"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let shown = "";
      tty.stdout.setEncoding("utf8").on("data", (c: string) => {
        shown += c;
      });
      const code = await new Promise<number | null>((resolve) => tty.once("close", resolve));
      assert.equal(code, 0, shown);
      const ERASE_LINE = "\x1b[K";
      assert.match(shown, /\rload: \d s, \d+ ok, 0 failed, \d+ in flight/);
      assert.ok(shown.includes(`in flight${ERASE_LINE}`), "each update erases the rest of the line");
      assert.ok(shown.endsWith(`\r${ERASE_LINE}`), "the line is cleared at the end");
      const piped = spawnCli(args);
      assert.equal((await piped.exit).code, 0);
      assert.doesNotMatch(piped.stderr(), /\r|in flight/);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("Ctrl-C stops within 1 s with exit 130 and a report of the calls made", async () => {
    const server = await startEchoServer({ port: 0, delayMs: 200 });
    try {
      const run = spawnCli(["load", "--target", server.address, "-z", "60s", "-c", "4", "--json"]);
      await waitFor("load to start sending", () => (/sending/.test(run.stderr()) ? true : undefined), {
        timeoutMs: 10_000,
      });
      const t0 = performance.now();
      run.child.kill("SIGINT");
      const { code } = await run.exit;
      const ms = performance.now() - t0;
      assert.equal(code, 130, run.stderr());
      assert.ok(ms < 1000, `exited ${Math.round(ms)} ms after SIGINT`);
      const report = JSON.parse(run.lines.join("\n")) as LoadReport;
      assert.equal(report.interrupted, true);
      // The 200 ms calls in flight were cancelled, not awaited, and are counted apart from failures.
      assert.ok((report.cancelledByInterrupt ?? 0) > 0, JSON.stringify(report));
      assert.equal(report.requests.failed, 0, JSON.stringify(report.statuses));
    } finally {
      await server.stop();
    }
  });

  it("rejects bad flags with one line and exit 2", async () => {
    const bad: [string[], RegExp][] = [
      [["--load-step", "5"], /--load-step needs --load-schedule step or line/],
      [["-z", "10 s"], /--duration must be a duration such as 500ms/],
      [["--format", "csv", "--json"], /--json and --format must agree/],
      [["--lb", "round_robin"], /--dns-server and --lb need a dns:\/\/\/NAME:PORT target/],
      [["--load-schedule", "step"], /needs --load-start and --load-step/],
      [["--metadata", "novalue"], /--metadata must be KEY=VALUE/],
      [["--rps", "0"], /--rps must be a number of at least 0.1/],
    ];
    for (const [flags, message] of bad) {
      const run = spawnCli(["load", "--target", "127.0.0.1:1", ...flags]);
      assert.equal((await run.exit).code, 2, flags.join(" "));
      assert.match(run.stderr(), message);
      assert.equal(run.stderr().trim().split("\n").length, 1);
    }
  });

  it("waitForResults rejects at once when its signal aborts", async () => {
    const server = await startEchoServer({ port: 0 });
    const load = startPacedLoad({
      target: server.address,
      ratePerSec: 50,
      concurrency: 2,
      maxRequests: 1000,
      maxDurationMs: 30_000,
      deadlineMs: 5000,
    });
    try {
      await load.waitForResults(3, 10_000);
      const ac = new AbortController();
      const waiting = load.waitForResults(1_000_000, 60_000, ac.signal);
      const t0 = performance.now();
      ac.abort(new Error("test abort"));
      await assert.rejects(waiting, /test abort/);
      assert.ok(performance.now() - t0 < 500);
    } finally {
      const results = await load.stop();
      assert.ok(results.every((r) => r.code === 0));
      // One set of totals: the engine's report counts exactly the results the scenario sees.
      const report = load.report();
      assert.deepEqual(report.requests, { total: results.length, ok: results.length, failed: 0 });
      assert.deepEqual(report.backends, { [server.id]: results.length });
      await server.stop();
    }
  });
});
