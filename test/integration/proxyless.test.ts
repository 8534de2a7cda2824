import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { engineBudgets } from "../../src/envoy/budgets.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { startPacedLoad } from "../../src/loadgen/paced-load.js";
import { formatHostPort } from "../../src/util/address.js";
import { waitFor } from "../../src/util/wait.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

describe("proxyless gRPC: load --target xds:///server on a lab fed by xDS", () => {
  let lab: LabCluster;
  let xdsServer: string;
  before(async () => {
    lab = await startLabCluster(resolveLabOptions({ servers: 3, topology: "xds" }));
    const eds = lab.topology.envoyEds();
    assert.ok(eds, "the xds lab runs an xDS server");
    xdsServer = formatHostPort(eds.xdsAddress, eds.xdsPort);
  });
  after(() => lab?.stop());

  it("30 calls split exactly 10/10/10, each counted by the server that answered it", async () => {
    const run = spawnCli(["load", "--target", "xds:///server", "--xds-server", xdsServer, "-n", "30"]);
    const { code } = await run.exit;
    assert.equal(code, 0, run.stderr());
    const out = run.lines.join("\n");
    assert.match(out, /3 backends answered 30 of 30 requests: 10\/10\/10/, out);
    for (const s of lab.servers()) assert.ok(out.includes(s.id), `server ${s.id} is named in the report`);
    assert.match(run.stderr(), /to xds:\/\/\/server up after \d+ ms; sending \(grpc-js engine\)/);
  });

  it("a server added to the pool gets calls, and no call fails", async () => {
    // No DNS in the path: the push, then the new subchannel's connection (well within Envoy's join budget).
    const budgetMs = engineBudgets({ ...lab.options.envoy, dnsRefreshMs: 0 }).joinMs;
    const load = startPacedLoad({
      target: "xds:///server",
      xdsServer,
      ratePerSec: 100,
      concurrency: 4,
      maxRequests: 5000,
      maxDurationMs: 30_000,
      deadlineMs: 2000,
    });
    try {
      await load.waitForResults(20, budgetMs);
      const [added] = await lab.pool.add(1);
      assert.ok(added);
      await waitFor(
        `the new server ${added.id} to answer a call`,
        () => (load.results.some((r) => r.serverId === added.id) ? true : undefined),
        { timeoutMs: budgetMs, intervalMs: 10 },
      );
    } finally {
      const results = await load.stop();
      const failed = results.filter((r) => r.code !== 0);
      assert.deepEqual(failed, [], "no call failed");
    }
  });

  it("an xds:/// target without --xds-server is a usage error", async () => {
    const run = spawnCli(["load", "--target", "xds:///server", "-n", "1"]);
    assert.equal((await run.exit).code, 2);
    assert.match(run.stderr(), /needs --xds-server HOST:PORT/);
  });
});
