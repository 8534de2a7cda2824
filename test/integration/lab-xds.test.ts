import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { engineBudgets } from "../../src/envoy/budgets.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { waitForHosts } from "../../src/lab/lab-envoy.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { runScenario } from "../../src/lab/scenarios/run.js";
import { runLoad } from "../../src/loadgen/run-load.js";
import { routesToExactly } from "../../src/routing/wait-hosts.js";
import { formatHostPort } from "../../src/util/address.js";
import { TYPE_URLS } from "../../src/xds/protos.js";
import { openAdsStream } from "../ads-client.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

const addresses = (lab: LabCluster) => lab.servers().map((s) => formatHostPort(s.host, s.port));

describe("lab --discovery xds: Envoy takes the servers by EDS from the lab's xDS server", () => {
  it("grpc-lb lab --discovery xds --requests 100 prints 33/33/34", async () => {
    const run = spawnCli(["lab", "--discovery", "xds", "--requests", "100"]);
    const exit = await run.exit;
    assert.equal(exit.code, 0, run.stderr());
    const out = run.lines.join("\n");
    assert.match(out, /3 backends answered 100 of 100 requests: 33\/33\/34/);
    assert.match(out, /ok 100, failed 0/);
    assert.match(run.stderr(), /xds: push EDS version \S+ to node 'grpc-lb-envoy'/);
  });

  describe("a running lab", () => {
    let lab: LabCluster | undefined;
    after(() => lab?.stop());

    it("a server added to the pool gets calls, with no DNS change; a stopped one none, and no call fails", async () => {
      lab = await startLabCluster(resolveLabOptions({ servers: 3, topology: "xds" }));
      const l = lab;
      // No DNS refresh in the path: the push, the new host's first health check, the merge window.
      const budget = engineBudgets({ ...l.options.envoy, dnsRefreshMs: 0 }).joinMs;
      const [added] = await l.pool.add(1);
      assert.ok(added);
      await waitForHosts(
        l.envoy,
        "Envoy to route to the 4th server",
        routesToExactly(addresses(l)),
        budget,
        undefined,
      );
      const four = await runLoad({ target: l.listenAddress, requests: 40 });
      assert.equal(four.requests.ok, 40);
      assert.deepEqual(Object.values(four.backends), [10, 10, 10, 10], JSON.stringify(four.backends));
      assert.equal(four.backends[added.id], 10);

      // SIGTERM: DRAINING at once by EDS, then removed when it exits; calls meanwhile all succeed.
      const victim = l.servers()[1];
      assert.ok(victim);
      const load = runLoad({ target: l.listenAddress, requests: 600, concurrency: 2 });
      const stopped = l.pool.stop(victim);
      const rest = addresses(l);
      await waitForHosts(
        l.envoy,
        "Envoy to stop routing to server 2",
        routesToExactly(rest),
        budget,
        undefined,
      );
      await stopped;
      const report = await load;
      assert.equal(report.requests.failed, 0, JSON.stringify(report.errors));
      const after = await runLoad({ target: l.listenAddress, requests: 30 });
      assert.ok(!(victim.id in after.backends), "the stopped server gets no call");
      assert.equal(Object.keys(after.backends).length, 3);
    });
  });

  it("lab up --discovery xds prints the xDS server, which any ADS client can ask", async () => {
    const run = spawnCli(["lab", "up", "--discovery", "xds", "--listen-port", "0", "--admin-port", "0"]);
    const line = await run.line((l) => l.startsWith("xDS server:"), 60_000);
    const address = line.replace("xDS server:", "").trim().split(" ")[0] ?? "";
    assert.match(address, /^127\.0\.0\.1:\d+$/);
    assert.ok(run.lines.some((l) => l.startsWith("Envoy listener:")));
    const client = openAdsStream(address);
    try {
      client.send({ node: { id: "a-test" }, type_url: TYPE_URLS.endpoint, resource_names: ["server"] });
      const eds = await client.next();
      const [cla] = eds.resources as { endpoints: { lb_endpoints: { health_status: string }[] }[] }[];
      assert.deepEqual(
        cla?.endpoints[0]?.lb_endpoints.map((e) => e.health_status),
        ["HEALTHY", "HEALTHY", "HEALTHY"],
      );
    } finally {
      client.close();
    }
    run.child.kill("SIGINT");
    assert.equal((await run.exit).code, 130, run.stderr());
    assert.match(run.stderr(), /xds: stream \d+ opened by node 'a-test'/);
  });

  it("lab scenario discovery: by DNS, by EDS and proxyless, each join and removal timed, no call failing", async () => {
    const report = await runScenario("discovery", {}, () => {});
    assert.equal(report.verdict, "pass", JSON.stringify(report.checks));
    assert.equal(report.requests.failed, 0);
    const m = report.measurements;
    for (const k of [
      "dnsReadyToFirstCallMs",
      "xdsReadyToFirstCallMs",
      "proxylessReadyToFirstCallMs",
      "dnsRemovedToLastCallMs",
      "xdsRemovedToLastCallMs",
      "proxylessRemovedToLastCallMs",
    ])
      assert.equal(typeof m[k], "number", k);
    assert.deepEqual(
      report.distributions.map((d) => [d.phase, Object.keys(d.backends).length]),
      [
        ["dns: 4 servers", 4],
        ["dns: after the removal", 3],
        ["xds: 4 servers", 4],
        ["xds: after the removal", 3],
        ["proxyless: 4 servers", 4],
        ["proxyless: after the removal", 3],
      ],
    );
  });
});
