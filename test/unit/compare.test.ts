import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labBenchGhz } from "../../src/cli/commands/lab/bench-ghz.js";
import { clusterOptions } from "../../src/cli/commands/lab/cluster-flags.js";
import { labCompare } from "../../src/cli/commands/lab/compare.js";
import { compareCharts, renderSvg } from "../../src/compare/charts.js";
import { processCpuSeconds, startCpuMeter } from "../../src/compare/cpu.js";
import { allModes, modeLabOptions, modeName } from "../../src/compare/modes.js";
import { resolveCompareOptions } from "../../src/compare/options.js";
import { type CompareModeResult, type CompareReport, formatCompareText } from "../../src/compare/report.js";
import { processRssMb } from "../../src/compare/sampler.js";
import { scaleOutOf } from "../../src/compare/scale-out.js";
import { buildBootstrap } from "../../src/envoy/bootstrap.js";
import { resolveEnvoyConfigOptions } from "../../src/envoy/options.js";
import { UsageError } from "../../src/errors.js";
import { layerLabOptions, resolveLabOptions } from "../../src/lab/options.js";
import type { LabServer } from "../../src/lab/servers.js";
import { distribution, noFailedCalls, repliesCut, requestTotals } from "../../src/scenarios/report.js";
import { captureContext } from "../helpers.js";

const route = (policy: Parameters<typeof resolveEnvoyConfigOptions>[0]) =>
  buildBootstrap(resolveEnvoyConfigOptions(policy)).static_resources.listeners[0]?.filter_chains[0]
    ?.filters[0]?.typed_config.route_config.virtual_hosts[0]?.routes[0]?.route;

describe("lab knobs", () => {
  it("hash on a header only with ring_hash and maglev", () => {
    assert.equal(route({ policy: "round_robin" })?.hash_policy, undefined);
    assert.equal(route({ policy: "least_request" })?.hash_policy, undefined);
    for (const policy of ["ring_hash", "maglev"] as const)
      assert.deepEqual(route({ policy, hashHeader: "x-user" })?.hash_policy, [
        { header: { header_name: "x-user" } },
      ]);
    assert.throws(() => resolveEnvoyConfigOptions({ hashHeader: "X User" }), UsageError);
  });

  it("give server 1 alone its faults, over every server's", () => {
    const o = resolveLabOptions(
      layerLabOptions(
        { serverFaults: { failCode: "INTERNAL" } },
        clusterOptions("lab", { "slow-server": "20", "fail-server": "0.25", "envoy-concurrency": "3" }),
      ),
    );
    assert.deepEqual(o.serverFaults, { delayMs: 0, failRate: 0, failCode: "INTERNAL" });
    assert.deepEqual(o.firstServerFaults, { delayMs: 20, failRate: 0.25, failCode: "INTERNAL" });
    assert.equal(o.envoy.concurrency, 3);
    assert.throws(
      () => clusterOptions("lab", { "fail-server": "1.5" }),
      /--fail-server must be a number from 0 to 1/,
    );
    assert.throws(() => clusterOptions("lab", { "envoy-concurrency": "0" }), /--envoy-concurrency/);
    assert.throws(() => resolveLabOptions({ firstServerFaults: { failRate: -1 } }), UsageError);
  });
});

describe("lab compare", () => {
  it("names every mode and refuses an unknown one, listing them", () => {
    assert.deepEqual(allModes(2000).map(modeName), [
      "l4",
      "l4-max-age",
      "envoy-round_robin",
      "envoy-least_request",
      "envoy-random",
      "envoy-ring_hash",
      "envoy-maglev",
      "client-round_robin",
      "haproxy",
      "nginx",
      "eds-round_robin",
      "proxyless-round_robin",
    ]);
    for (const name of ["eds-round_robin", "proxyless-round_robin"]) {
      const [mode] = resolveCompareOptions({ modes: [name] }).modes;
      assert.ok(mode);
      assert.equal(modeLabOptions(mode).topology, "xds", `${name} runs on the lab fed by xDS`);
    }
    assert.throws(() => resolveCompareOptions({ modes: ["l7"] }), /unknown mode 'l7'; modes: l4, l4-max-age/);
    assert.throws(() => resolveCompareOptions({ durationMs: 2000, killAtMs: 2000 }), /kill must come within/);
    assert.equal(resolveCompareOptions({ durationMs: 3000 }).killAtMs, 1500);
    assert.equal(resolveCompareOptions({ durationMs: 3000 }).scaleAtMs, 1800);
    assert.throws(
      () => resolveCompareOptions({ durationMs: 3000, scaleAtMs: 1000 }),
      /scale-out \(1000 ms\) must come after the kill \(1500 ms\)/,
    );
    assert.throws(
      () => resolveCompareOptions({ durationMs: 3000, scaleAtMs: 3000 }),
      /scale-out must come within/,
    );
    assert.equal(resolveCompareOptions({ scaleAtMs: null, killAtMs: null }).scaleAtMs, null);
  });

  it("measures the newcomer's share after it joined and the time to its first call", () => {
    const newcomer = { index: 3, id: "s4" } as LabServer;
    const calls = [
      { startMs: 100, endMs: 101, code: 0, serverId: "s4" },
      { startMs: 990, endMs: 991, code: 0, serverId: "s1" },
      { startMs: 1000, endMs: 1001, code: 0, serverId: "s1" },
      { startMs: 1200, endMs: 1201, code: 14 },
      { startMs: 1300, endMs: 1301, code: 0, serverId: "s4" },
      { startMs: 1400, endMs: 1401, code: 0, serverId: "s3" },
    ];
    assert.deepEqual(scaleOutOf(newcomer, 1000, 3, calls), {
      joinedAtMs: 1000,
      server: 4,
      calls: 1,
      sharePct: 33.3,
      fairSharePct: 33.3,
      firstCallMs: 300,
    });
    assert.equal(scaleOutOf(newcomer, 1350, 3, calls).firstCallMs, null, "no call since joining");
  });

  it("reads a process's CPU and memory from /proc", () => {
    const meter = startCpuMeter([process.pid]);
    // Busy until this process has used 80 ms of CPU by its own count (not by the clock: on a
    // busy machine 150 ms of wall time may hold far less), within a wall budget that ends a hang.
    const start = process.cpuUsage();
    const giveUp = performance.now() + 30_000;
    let x = 0;
    const usedMs = () => {
      const u = process.cpuUsage(start);
      return (u.user + u.system) / 1000;
    };
    while (usedMs() < 80 && performance.now() < giveUp)
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    assert.ok(x > 0);
    assert.ok(meter.stop() >= 0.05, "busy work shows as CPU time");
    assert.ok(processCpuSeconds(process.pid) > 0);
    assert.ok(processRssMb(process.pid) > 10);
    assert.throws(() => processCpuSeconds(2 ** 22 + 1), /cannot read the CPU time of pid/);
  });

  it("prints a row per mode and draws every chart as SVG", async () => {
    const backends = (shares: number[]) =>
      shares.map((s, i) => ({
        server: i + 1,
        label: `server ${i + 1}`,
        count: s,
        sharePct: s,
        p50Ms: 1,
        p99Ms: 2,
      }));
    const mode = (name: string, shares: number[]): CompareModeResult => ({
      mode: name,
      description: name,
      balancer: "Envoy",
      backends: backends(shares),
      cv: 0.1,
      backendsUsed: shares.filter((s) => s > 0).length,
      latencyMs: { p50: 1, p90: 2, p99: 3, max: 4, mean: 1 },
      requests: { total: 100, ok: 100, failed: 0 },
      errors: {},
      killAtMs: 1000,
      failedAfterKill: 0,
      balancerCpuSec: 0.1,
      clientCpuSec: 0.2,
      perSecond: [
        { second: 0, backends: { "server 1": 30, "server 2": 30 }, failed: 0 },
        { second: 1, backends: { "server 1": 40 }, failed: 2 },
      ],
    });
    const report: CompareReport = {
      workload: {
        servers: 3,
        slowServerMs: 20,
        connections: 4,
        ratePerSec: 100,
        concurrency: 8,
        durationMs: 2000,
        killAtMs: 1000,
      },
      envoyVersion: "1.40.0",
      modes: [
        mode("l4", [50, 25, 25]),
        mode("envoy-round_robin", [34, 33, 33]),
        {
          ...mode("nginx", [33, 33, 34]),
          scaleOut: {
            joinedAtMs: 1500,
            server: 4,
            calls: 0,
            sharePct: 0,
            fairSharePct: 33.3,
            firstCallMs: null,
          },
        },
      ],
    };
    report.workload.scaleAtMs = 1200;
    const text = formatCompareText(report);
    assert.match(text, /^l4 +50\/25\/25 /m);
    assert.match(
      text,
      /^ {2}nginx +server 4 in DNS at 1\.5 s took 0\.0 % of the calls since \(fair 33\.3 %\), no call$/m,
    );
    assert.match(text, /^ {2}envoy-round_robin +not measured$/m);
    assert.match(text, /^envoy-round_robin +34\/33\/33 /m);
    const charts = compareCharts(report);
    assert.deepEqual(
      charts.map((c) => c.id),
      ["share", "latency", "kill"],
    );
    for (const c of charts) {
      const svg = await renderSvg(c.spec);
      assert.match(svg, /^<svg /, `${c.id} is SVG`);
      assert.ok((svg.match(/<path|<rect|<line/g) ?? []).length > 5, `${c.id} draws marks`);
      assert.doesNotMatch(svg, /<image|href="http/, `${c.id} refers to nothing outside`);
    }
  });
});

describe("scenario totals over the engine's recorder", () => {
  const results = [
    { startMs: 0, endMs: 1, serverId: "a", code: 0 },
    { startMs: 5, endMs: 6, serverId: "b", code: 0 },
    { startMs: 10, endMs: 11, serverId: undefined, code: 14, details: "no healthy upstream" },
    { startMs: 15, endMs: 16, serverId: "a", code: 0 },
  ];
  it("count per backend in a window and by status", () => {
    assert.deepEqual(distribution(results), { a: 2, b: 1 });
    assert.deepEqual(distribution(results, 5, 15), { b: 1 });
    assert.deepEqual(requestTotals(results), { total: 4, ok: 3, failed: 1, errors: { UNAVAILABLE: 1 } });
    assert.equal(noFailedCalls(results).ok, false);
    assert.equal(
      noFailedCalls(results).detail,
      "1 of 4 failed (UNAVAILABLE 1); first UNAVAILABLE: no healthy upstream",
    );
    assert.equal(noFailedCalls(results.filter((r) => r.code === 0)).detail, "0 of 3 failed");
  });

  it("counts replies a fault cut mid-way apart: INTERNAL by a reset stream, in the fault's window only", () => {
    const reset = "Received RST_STREAM with code 2 (Internal server error)";
    const rs = [
      { startMs: 0, endMs: 1, serverId: "a", code: 0 },
      { startMs: 5, endMs: 12, serverId: undefined, code: 13, details: reset },
      { startMs: 40, endMs: 41, serverId: undefined, code: 13, details: reset },
      { startMs: 6, endMs: 11, serverId: undefined, code: 14, details: "no healthy upstream" },
    ];
    const window = { fromMs: 10, toMs: 10, withinMs: 20 };
    // The second only: the third started after the kill, the fourth is no cut reply.
    assert.equal(repliesCut(rs, window), 1);
    const mixed = noFailedCalls(rs, { count: repliesCut(rs, window), by: "the kill", budget: 8 });
    assert.equal(mixed.ok, false);
    // The line counts every call the client saw fail, the cut reply among them.
    assert.match(
      mixed.detail,
      /^3 of 4 failed \(INTERNAL 2, UNAVAILABLE 1\).*: 1 reply cut mid-way by the kill, .*, 2 otherwise$/,
    );
    const cutOnly = rs.slice(0, 2);
    const ok = noFailedCalls(cutOnly, { count: repliesCut(cutOnly, window), by: "the kill", budget: 8 });
    assert.equal(ok.ok, true);
    assert.equal(ok.name, "no failed calls but replies cut mid-way by the kill");
    assert.equal(
      ok.detail,
      `1 of 2 failed (INTERNAL 1); first INTERNAL: ${reset}: 1 reply cut mid-way by the kill, which no one can retry (budget 8, the calls in flight), 0 otherwise`,
    );
    // More cut replies than calls were in flight cannot all be the kill's.
    assert.equal(noFailedCalls(cutOnly, { count: 1, by: "the kill", budget: 0 }).ok, false);
  });
});

describe("compare and bench-ghz usage", () => {
  it("refuse bad flags before starting anything, with one line naming the fix", async () => {
    const { ctx } = captureContext();
    await assert.rejects(labCompare.run(["--modes", "l4,nope"], ctx), /unknown mode 'nope'/);
    await assert.rejects(
      labCompare.run(["--duration-ms", "100"], ctx),
      /--duration-ms must be an integer from 500/,
    );
    await assert.rejects(labBenchGhz.run([], ctx), /--ghz PATH is required/);
    await assert.rejects(
      labBenchGhz.run(["--ghz", "/bin/true", "--connections", "8", "-c", "4"], ctx),
      /--connections cannot exceed --concurrency/,
    );
  });
});
