import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { BenchResult } from "../../src/bench/bench.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

describe("grpc-lb lab bench --rows proxies at small scale", () => {
  it("measures Envoy, HAProxy and nginx beside direct calls, every call answered", async () => {
    // Small and quick: the structure and that every proxy answered, not speed (make bench prints that).
    const run = spawnCli([
      "lab",
      "bench",
      "--rows",
      "proxies",
      "--rates",
      "40",
      "--closed",
      "2",
      "--step-ms",
      "500",
      "--repeats",
      "2",
      "--idle-ms",
      "1000",
      "--json",
    ]);
    const { code } = await run.exit;
    assert.equal(code, 0, `lab bench failed; stderr:\n${run.stderr()}`);
    const result = JSON.parse(run.lines.join("\n")) as BenchResult;
    assert.equal(result.sizing, null, "only the proxies' table was asked for");
    const p = result.proxies;
    assert.ok(p, "the proxies' table is in the JSON");
    assert.deepEqual(Object.keys(p.versions), ["envoy", "haproxy", "nginx"]);
    assert.deepEqual(
      p.rows.map((r) => `${r.step.kind} ${r.proxy}`),
      ["rate envoy", "rate haproxy", "rate nginx", "closed envoy", "closed haproxy", "closed nginx"],
    );
    for (const r of p.rows) {
      assert.equal(r.failed, 0, `${r.proxy} ${r.step.kind}: every call answered`);
      assert.ok(r.calls > 0, `${r.proxy} ${r.step.kind}: calls went through`);
      assert.equal(r.repeats, 2, `${r.proxy} ${r.step.kind}: paired with direct runs`);
      assert.ok(Number.isFinite(r.addedP50Ms), `${r.proxy}: an added p50`);
      assert.ok(r.cpuUsPerCall !== null && r.cpuUsPerCall >= 0, `${r.proxy}: CPU per call`);
    }
    assert.equal(p.idle.length, 3, "each proxy's idle CPU");
    assert.equal(p.envoyVersusBest.length, 2, "Envoy beside the better peer at each load");
    // Every path ran each repeat: direct and the three proxies.
    assert.equal(p.runs.length, 2 * 2 * 4);
  });
});
