import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { runScenario } from "../../src/lab/scenarios/run.js";
import { startEnvoyWhileXdsDown } from "../../src/lab/scenarios/xds-late-envoy.js";
import { startProxylessThread } from "../../src/lab/scenarios/xds-proxyless-thread.js";
import { asXdsTopology } from "../../src/lab/topologies/xds.js";
import { startXdsServer } from "../../src/xds/server.js";
import { EndpointList } from "../../src/xds/sources/list.js";

/** A short initial_fetch_timeout: the behaviour is the same as with the lab's 5 s, sooner. */
const FETCH_TIMEOUT_MS = 1000;

describe("when the control plane fails", () => {
  describe("an Envoy starting while the xDS server is down", () => {
    let lab: LabCluster | undefined;
    after(() => lab?.stop());

    it("goes LIVE only after initial_fetch_timeout, with no host; calls fail 'no healthy upstream' until the server is back", async () => {
      lab = await startLabCluster(resolveLabOptions({ servers: 2, topology: "xds" }));
      const topology = asXdsTopology(lab.topology);
      const eds = lab.topology.envoyEds();
      assert.ok(topology && eds);
      const late = await startEnvoyWhileXdsDown(
        lab,
        topology.controlPlane(),
        eds,
        FETCH_TIMEOUT_MS,
        new AbortController().signal,
      );
      assert.ok(late.startToLiveMs >= FETCH_TIMEOUT_MS, `LIVE after ${late.startToLiveMs} ms`);
      assert.equal(late.hostsAtLive, 0);
      assert.equal(late.failedWhileDown, late.callsWhileDown);
      assert.match(late.firstFailure, /^14 no healthy upstream/);
      assert.ok(late.restartToFirstOkMs >= 0);
      // The restarted server on the same port feeds the lab's own Envoy again too.
      assert.equal(topology.controlPlane().server?.port, eds.xdsPort);
    });
  });

  it("the proxyless load's thread ends on stop() within its grace (a call's deadline + 1 s) while its xDS server never answers", async () => {
    // Never synced: the gated server answers nothing, so the client has no config and every call waits.
    const xds = await startXdsServer(new EndpointList("nothing, never synced"), { metricsPort: false });
    const deadlineMs = 300;
    try {
      const load = startProxylessThread(
        {
          target: "xds:///server",
          xdsServer: xds.address,
          ratePerSec: 50,
          concurrency: 4,
          maxRequests: 1000,
          maxDurationMs: 30_000,
          deadlineMs,
        },
        new AbortController().signal,
      );
      const from = performance.now();
      const results = await load.stop();
      const tookMs = performance.now() - from;
      assert.ok(tookMs < deadlineMs + 1000 + 1000, `stop() took ${Math.round(tookMs)} ms`);
      assert.ok(
        results.every((r) => r.code !== 0),
        "no call can succeed without a config",
      );
      assert.doesNotThrow(() => load.throwIfFailed());
    } finally {
      await xds.stop();
    }
  });

  it("lab scenario xds-restart: no call lost with the sync gate, through Envoy and proxyless; hosts dropped without it; none lost to a SIGKILL of a grpc-lb xds-server process", async () => {
    const report = await runScenario("xds-restart", {}, () => {});
    assert.equal(report.verdict, "pass", JSON.stringify(report.checks));
    const m = report.measurements;
    assert.equal(m.gatedFailedCalls, 0);
    assert.equal(m.gatedMinRoutedHosts, 3);
    assert.equal(m.ungatedHostsDropped, 3);
    assert.ok((m.ungatedFailedCalls as number) > 0);
    // The proxyless client kept its endpoints through the gated crash: every server answered it
    // while the xDS server was down, while the restarted one listed, and after.
    assert.ok((m.proxylessGatedCalls as number) > 0);
    assert.equal(m.proxylessGatedFailedCalls, 0);
    for (const w of ["Before", "Down", "Relisting", "After"])
      assert.equal(m[`proxylessGatedServers${w}`], 3, `servers answering proxyless calls: ${w}`);
    // Without the gate it took the empty assignment, failed meanwhile, and came back to every server.
    assert.ok((m.proxylessUngatedFailedWhileEmpty as number) > 0);
    assert.equal(m.proxylessUngatedServersAfter, 3);
    assert.ok((m.proxylessUngatedRestartToReconnectMs as number) >= 0);
    // Its calls are counted in the report's totals, failures included.
    assert.ok(
      report.requests.failed >= (m.proxylessUngatedFailedCalls as number) + (m.ungatedFailedCalls as number),
    );
    // A real process death: grpc-lb xds-server --source file killed with SIGKILL under load and
    // started again on its port. Its Envoy and the proxyless client lose no call and keep both
    // listed servers in every window; both reconnect; the server added to the file reaches both.
    const killed = report.checks.find((c) => c.name.startsWith("a grpc-lb xds-server killed with SIGKILL"));
    assert.match(
      killed?.detail ?? "",
      /process was killed by SIGKILL \(pid (\d+)\), pid (?!\1 )\d+ ready on port \d+/,
    );
    assert.equal(m.processListedBefore, 2);
    assert.equal(m.processListedAfter, 3);
    for (const side of ["Envoy", "Proxyless"]) {
      assert.ok((m[`process${side}Calls`] as number) >= 400, `${side}: calls through the phase`);
      assert.equal(m[`process${side}FailedCalls`], 0, `${side}: failed calls`);
      for (const w of ["Before", "Down", "Back"])
        assert.equal(m[`process${side}Servers${w}`], 2, `${side}: ${w}`);
      assert.equal(m[`process${side}ServersAfter`], 3, `${side}: after the file changed`);
      assert.ok((m[`process${side}ReconnectMs`] as number) >= 0, `${side}: its ADS stream back`);
      assert.ok((m[`process${side}ChangeToAddedMs`] as number) >= 0, `${side}: the added server reached`);
    }
  });
});
