import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { main } from "../../src/cli/main.js";
import { CLUSTER_NAME } from "../../src/envoy/bootstrap.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { waitForHosts } from "../../src/lab/lab-envoy.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { runLoad } from "../../src/loadgen/run-load.js";
import { routesToExactly } from "../../src/routing/wait-hosts.js";
import { formatHostPort } from "../../src/util/address.js";
import { captureContext, killSpawned } from "../helpers.js";

after(killSpawned);

// Envoy's default merge window (1 s) and no panic routing, as deployed on Compose: a new
// host shows healthy in /clusters up to 1 s before the load balancer uses it.
describe("waiting on Envoy's load balancer, not only on /clusters", () => {
  let lab: LabCluster | undefined;
  after(() => lab?.stop());

  it("a run right after each wait is exact, as hosts join one by one (1 s merge window)", async () => {
    lab = await startLabCluster(
      resolveLabOptions({
        servers: 1,
        envoy: { updateMergeWindowMs: 1000, healthyPanicThresholdPercent: 0, dnsRefreshMs: 100 },
      }),
    );
    const l = lab;
    for (const n of [2, 3, 4]) {
      await l.pool.add(1);
      l.setServerRecords(l.servers());
      const want = l.servers().map((s) => formatHostPort(s.host, s.port));
      await waitForHosts(l.envoy, `Envoy to route to ${n} servers`, routesToExactly(want), 20_000, undefined);
      const report = await runLoad({ target: l.listenAddress, requests: 12 * n, concurrency: 1 });
      assert.equal(report.requests.ok, 12 * n);
      assert.deepEqual(
        Object.values(report.backends),
        Array(n).fill(12),
        `round robin over ${n} servers from the first call: ${JSON.stringify(report.backends)}`,
      );
    }
  });

  it("grpc-lb envoy-hosts waits for that, and says what it saw when it gives up", async () => {
    assert.ok(lab, "the lab of the test above");
    const flags = ["--admin", lab.envoy.adminAddress, "--listener", lab.listenAddress];
    const ok = captureContext();
    assert.equal(await main(["envoy-hosts", ...flags, "--count", "4"], ok.ctx), 0, ok.stderr());
    assert.match(
      ok.stdout(),
      new RegExp(`^Envoy routes to 4 healthy host\\(s\\) of cluster '${CLUSTER_NAME}'`),
    );
    assert.equal(ok.stdout().match(/ healthy, \d+ calls so far/g)?.length, 4);

    const short = captureContext();
    assert.equal(await main(["envoy-hosts", ...flags, "--count", "5", "--wait-ms", "300"], short.ctx), 1);
    assert.match(short.stderr(), /^grpc-lb: envoy: gave up after 300 ms .*last seen: 4 healthy of 4 hosts/);
  });

  it("grpc-lb envoy-hosts: bad usage exits 2 with one line", async () => {
    for (const [argv, message] of [
      [["--listener", "127.0.0.1:1", "--count", "1"], /--admin is required/],
      [["--admin", "127.0.0.1:1", "--count", "1"], /--listener is required/],
      [["--admin", "127.0.0.1:1", "--listener", "127.0.0.1:1"], /--count is required/],
      [["--admin", "nowhere", "--listener", "127.0.0.1:1", "--count", "1"], /--admin must be HOST:PORT/],
      [["--admin", "127.0.0.1:1", "--listener", "127.0.0.1:1", "--count", "0"], /--count must be/],
    ] as const) {
      const c = captureContext();
      assert.equal(await main(["envoy-hosts", ...argv], c.ctx), 2, argv.join(" "));
      assert.match(c.stderr(), message);
      assert.equal(c.stderr().trim().split("\n").length, 1);
    }
  });
});
