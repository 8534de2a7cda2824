import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import type { LabEvent } from "../../src/lab/events.js";
import type { ScenarioName } from "../../src/lab/scenarios/registry.js";
import { runScenario } from "../../src/lab/scenarios/run.js";
import type { ScenarioReport } from "../../src/scenarios/report.js";
import { waitAllGone } from "../helpers.js";

/** Runs a scenario with its own cluster and checks that every process it started is gone afterwards. */
async function run(name: ScenarioName): Promise<ScenarioReport> {
  const pids: number[] = [];
  const onEvent = (e: LabEvent): void => {
    if (
      e.kind === "server-started" ||
      e.kind === "envoy-started" ||
      e.kind === "l4-proxy-started" ||
      e.kind === "envoy-tier-started" ||
      e.kind === "envoy-reloaded"
    )
      pids.push(e.pid);
  };
  let report: ScenarioReport;
  try {
    report = await runScenario(name, {}, onEvent);
  } finally {
    // Checked whether the scenario passed, failed or threw: a leak must show up either way.
    await waitAllGone([...new Set(pids)]);
  }
  const failedChecks = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  assert.deepEqual(failedChecks, [], `${name} failed checks`);
  assert.equal(report.verdict, "pass");
  return report;
}

const num = (v: number | number[] | undefined): number => (typeof v === "number" ? v : Number.NaN);

describe("resilience scenarios under load, real Envoy and servers", () => {
  it("failover: kill -9 one of 3 servers; zero failed calls, detected within the health-check budget", async () => {
    const r = await run("failover");
    // A reply already on its way when the server dies is cut mid-way (RST_STREAM), and no proxy
    // may retry it: the report counts it failed and explains it beside (its "no failed calls"
    // check passed above). Every other call must succeed. Seen in about 1 run of 12.
    const cut = r.measurements.repliesCutMidway;
    assert.equal(r.requests.failed, typeof cut === "number" ? cut : 0);
    assert.ok(r.requests.total >= 600, `${r.requests.total} calls`);
    assert.ok(num(r.measurements.deathToNoTrafficMs) <= num(r.measurements.detectionBudgetMs));
    assert.equal(Object.keys(r.distributions[1]?.backends ?? {}).length, 2);
  });

  it("drain: SIGTERM one server; zero failed calls, exit 0, out within the budget", async () => {
    const r = await run("drain");
    assert.equal(r.requests.failed, 0);
    assert.ok(num(r.measurements.termToNoTrafficMs) <= num(r.measurements.detectionBudgetMs));
  });

  it("scale: 3 → 6 → 2 through DNS; zero failed calls, joins and removals within their budgets", async () => {
    const r = await run("scale");
    assert.equal(r.requests.failed, 0);
    const joins = r.measurements.startToTrafficMs;
    assert.ok(Array.isArray(joins) && joins.length === 3);
    for (const j of joins) assert.ok(j <= num(r.measurements.joinBudgetMs), `join ${j} ms`);
    assert.deepEqual(
      r.distributions.map((d) => Object.keys(d.backends).length),
      [3, 6, 2],
    );
  });

  it("envoy-reload: Envoy hot-restarts into least_request under load; zero failed calls, the old epoch exits 0", async () => {
    const segments = () => readdirSync("/dev/shm").filter((f) => f.startsWith("envoy_shared_memory_"));
    const before = segments();
    const r = await run("envoy-reload");
    assert.equal(r.requests.failed, 0);
    assert.deepEqual(segments(), before, "hot restart's shared memory is removed with the lab");
    assert.ok(num(r.measurements.callsDuringHandover) > 0, "calls went on while the old epoch drained");
    assert.deepEqual(
      r.distributions.map((d) => Object.keys(d.backends).length),
      [3, 3],
    );
  });

  it("envoy-restart: one of 2 Envoys drains and restarts behind the front; zero failed calls, clients come back", async () => {
    const r = await run("envoy-restart");
    assert.equal(r.requests.failed, 0);
    const shares = (k: string): number[] => {
      const v = r.measurements[k];
      return Array.isArray(v) ? v : [];
    };
    assert.ok(num(r.measurements.connectionsToldToGo) >= 1, "the drained Envoy sent its clients a GOAWAY");
    assert.equal(shares("envoySharesWhileOutPct")[1], 0, "no call through the drained Envoy");
    for (const k of ["envoySharesBeforePct", "envoySharesAfterPct"])
      assert.ok(
        shares(k).length === 2 && shares(k).every((p) => p >= 25),
        `${k}: ${shares(k).join("/")} (each Envoy at least half its fair share)`,
      );
  });

  it("envoy-freeze: a frozen Envoy hangs calls without keepalive; keepalive bounds it, a retry policy hides it", async () => {
    const r = await run("envoy-freeze");
    assert.ok(num(r.measurements.keepaliveFailed) >= 1, "keepalive gave up the frozen connection's calls");
    assert.ok(num(r.measurements.keepaliveLastFailureAfterFreezeMs) <= num(r.measurements.detectionBudgetMs));
    assert.equal(r.measurements.retryFailed, 0);
    assert.ok(
      num(r.measurements.retryHeldThenRetried) >= 1,
      "the retrying client had calls on the frozen Envoy",
    );
    assert.ok(num(r.measurements.plainSlowestMs) >= 4000, "without keepalive a call waits out its deadline");
  });

  it("dns-outage: DNS down for 3 failed refreshes; hosts kept, zero failed calls", async () => {
    const r = await run("dns-outage");
    assert.equal(r.requests.failed, 0);
    assert.ok(num(r.measurements.failedDnsRefreshes) >= 3);
    assert.equal(Object.keys(r.distributions[1]?.backends ?? {}).length, 3);
  });

  it("many: 100 servers from one DNS answer over TCP; every one gets exactly its share; half lost, half back", async () => {
    const r = await run("many");
    assert.equal(r.measurements.hosts, 100);
    assert.ok(num(r.measurements.dnsTcpAnswers) >= 1);
    const counts = Object.values(r.distributions[0]?.backends ?? {});
    assert.equal(counts.length, 100);
    assert.ok(counts.every((n) => n === 10));
    assert.equal(r.measurements.removedServers, 50);
    // Killing 50 servers at once can cut a reply already on its way (RST_STREAM), which no proxy
    // may retry: the report counts it failed and explains it beside, within its budget (the
    // calls in flight). Every other call must succeed. Seen in about 1 run of 30.
    assert.equal(r.measurements.removalFailedCalls, r.measurements.removalRepliesCutByKill);
    assert.ok(num(r.measurements.removalToHostsGoneMs) <= num(r.measurements.removalBudgetMs));
    assert.equal(r.measurements.joinedServers, 50);
    assert.ok(num(r.measurements.joinToAllHealthyMs) <= num(r.measurements.joinToAllAnsweredMs));
    assert.ok(num(r.measurements.envoyRssMiB) > 0 && num(r.measurements.envoyIdleWindowMs) >= 2000);
  });
});
