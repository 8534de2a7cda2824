import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, describe, it } from "node:test";
import { LoadError } from "../../src/errors.js";
import type { LoadReport } from "../../src/loadgen/report.js";
import { runLoad } from "../../src/loadgen/run-load.js";
import { startEchoServer } from "../../src/server/server.js";
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
