import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import type { LabEvent } from "../../src/lab/events.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { runLabScenario } from "../../src/lab/scenarios/run.js";
import { streamsScenario } from "../../src/lab/scenarios/streams.js";
import { startStreamLoad } from "../../src/loadgen/streams/stream-load.js";
import { waitFor } from "../../src/util/wait.js";
import { killSpawned, spawnCli, waitAllGone } from "../helpers.js";

after(killSpawned);

const open = (byServer: Record<string, number>): number => Object.values(byServer).reduce((a, b) => a + b, 0);

describe("long-lived streams through a real Envoy", () => {
  let lab: LabCluster;
  before(async () => {
    // Each case below drains one: five leave two for the last.
    lab = await startLabCluster(resolveLabOptions({ servers: 5 }));
  });
  after(() => lab?.stop());

  const cases = [
    { engine: "h2", kind: "subscribe" },
    { engine: "grpc-js", kind: "subscribe" },
    { engine: "grpc-js", kind: "exchange" },
  ] as const;
  for (const { engine, kind } of cases) {
    it(`${engine}, ${kind}: streams that end by their lifetime or a drain resume elsewhere, nothing lost or repeated`, async () => {
      const streams = 8;
      const load = await startStreamLoad({
        target: lab.listenAddress,
        engine,
        kind,
        tls: lab.clientTls,
        connections: 1,
        keepaliveMs: 0,
        metadata: [],
        streams,
        intervalMs: 20,
        maxLifetimeMs: 300,
        sampleMs: 50,
        connectTimeoutMs: 10_000,
      });
      try {
        // Every stream ended by its lifetime at least once, and came back.
        await waitFor(
          "every stream to resume once",
          () => (load.snapshot().resumes >= streams ? true : undefined),
          {
            timeoutMs: 10_000,
          },
        );
        const victim = lab.servers().at(-1);
        assert.ok(victim);
        lab.setServerRecords(lab.servers().filter((s) => s !== victim));
        await lab.pool.stop(victim);
        await waitFor(
          "the drained server's streams to be open elsewhere",
          () => {
            const now = load.openByServer();
            return (now[victim.id] ?? 0) === 0 && open(now) === streams ? true : undefined;
          },
          { timeoutMs: 10_000 },
        );
      } finally {
        const r = await load.stop();
        assert.equal(r.lost, 0);
        assert.equal(r.duplicated, 0);
        assert.equal(r.failedStreams, 0, r.failures.join("; "));
        assert.ok((r.endsByStatus.OK ?? 0) >= streams, JSON.stringify(r.endsByStatus));
        assert.ok(Object.keys(r.messagesByServer).length >= 2, JSON.stringify(r.messagesByServer));
        assert.ok(r.samples.some((s) => s.open === streams));
        assert.equal(r.kind, kind);
      }
    });
  }

  it("grpc-lb load --streams prints the stream report and exits 0", async () => {
    const run = spawnCli([
      "load",
      "--target",
      lab.listenAddress,
      "--streams",
      "4",
      "--duration",
      "1s",
      "--stream-lifetime-ms",
      "200",
      "--sample-ms",
      "200",
      "--json",
    ]);
    const { code } = await run.exit;
    assert.equal(code, 0, run.stderr());
    const r = JSON.parse(run.lines.join("")) as {
      streams: number;
      lost: number;
      duplicated: number;
      resumes: number;
    };
    assert.equal(r.streams, 4);
    assert.equal(r.lost + r.duplicated, 0);
    assert.ok(r.resumes >= 4);
  });
});

describe("lab scenario streams, small and quick", () => {
  it("the recommended strategy reaches the fair share in time; nothing lost, repeated or failed", async () => {
    const pids: number[] = [];
    const onEvent = (e: LabEvent): void => {
      if (e.kind === "server-started" || e.kind === "envoy-started") pids.push(e.pid);
    };
    const scenario = streamsScenario({
      streams: 12,
      intervalMs: 50,
      rebalanceMs: 1500,
      graceMs: 500,
      sampleMs: 50,
    });
    const r = await runLabScenario(scenario, {}, onEvent);
    await waitAllGone([...new Set(pids)]);
    const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    assert.deepEqual(failed, []);
    assert.equal(r.verdict, "pass");
    const m = r.measurements;
    assert.ok(Number(m["server-lifetime.fairShareMs"]) >= 0);
    assert.ok(Number(m["server-lifetime.fairShareMs"]) <= Number(m["server-lifetime.budgetMs"]));
    for (const s of ["none", "connection-age", "envoy-max-stream-duration", "server-lifetime"]) {
      assert.equal(m[`${s}.lost`], 0, s);
      assert.equal(m[`${s}.duplicated`], 0, s);
      assert.equal(m[`${s}.failedStreams`], 0, s);
    }
    // With nothing to end them, streams stay on the first 3 servers.
    assert.equal(m["none.fairShareMs"], -1);
  });
});
