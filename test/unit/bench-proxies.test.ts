import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProxies } from "../../src/bench/proxies-report.js";
import {
  envoyVersusBest,
  type ProxiesResult,
  type ProxyIdle,
  type ProxyPath,
  type ProxyRun,
  summarizeProxies,
} from "../../src/bench/proxies-result.js";
import type { SizingStep } from "../../src/bench/sizing-result.js";
import { labBench } from "../../src/cli/commands/lab/bench.js";
import { processTree, statParentPid } from "../../src/peers/pids.js";
import { captureContext } from "../helpers.js";

const step: SizingStep = { kind: "closed", concurrency: 1 };
/** One run of 1,000 calls in 1 s at `p50Ms`, the proxy using `cpuSec`. */
const run = (path: ProxyPath, repeat: number, p50Ms: number, cpuSec: number): ProxyRun => ({
  step,
  path,
  repeat,
  calls: 1000,
  failed: 0,
  callsPerSec: 1000,
  p50Ms,
  p99Ms: p50Ms * 2,
  proxyCpu: path === "direct" ? null : { cpuSec, wallMs: 1000 },
});

describe("bench: each proxy's cost", () => {
  const runs = [0, 1].flatMap((repeat) => [
    run("direct", repeat, 0.5, 0),
    run("envoy", repeat, 0.9, 0.06),
    run("haproxy", repeat, 0.7, 0.03),
    run("nginx", repeat, 0.8 + repeat * 0.2, 0.05),
  ]);
  const idle: ProxyIdle[] = [
    { proxy: "envoy", window: { cpuSec: 0.01, wallMs: 1000 }, cores: 0.01 },
    { proxy: "haproxy", window: { cpuSec: 0, wallMs: 1000 }, cores: 0 },
    { proxy: "nginx", window: { cpuSec: 0, wallMs: 1000 }, cores: 0 },
  ];
  const rows = summarizeProxies(runs, idle);

  it("adds over direct run by run, and charges CPU per call net of idle", () => {
    assert.deepEqual(
      rows.map((r) => r.proxy),
      ["envoy", "haproxy", "nginx"],
    );
    const [envoy, haproxy, nginx] = rows;
    assert.ok(envoy && haproxy && nginx);
    assert.equal(Number(envoy.addedP50Ms.toFixed(3)), 0.4);
    assert.equal(Number(nginx.addedP50Ms.toFixed(3)), 0.4, "median of +0.3 and +0.5");
    // (0.06 - 0.01 idle) s over 1,000 calls: 50 µs each, 0.05 cores per 1,000 calls/s.
    assert.equal(Math.round(envoy.cpuUsPerCall ?? 0), 50);
    assert.equal(envoy.coresPer1000CallsPerSec?.toFixed(3), "0.050");
    assert.equal(Math.round(haproxy.cpuUsPerCall ?? 0), 30);
    assert.equal(envoy.calls, 2000);
    assert.equal(envoy.repeats, 2);
  });

  it("sets Envoy beside the better peer on each figure", () => {
    const [v] = envoyVersusBest(rows);
    assert.ok(v);
    assert.equal(v.latencyPeer, "haproxy");
    assert.equal(v.cpuPeer, "haproxy");
    assert.equal(Number(v.addedP50DeltaMs.toFixed(3)), 0.2);
    assert.equal(v.cpuRatio?.toFixed(2), "1.67");
    assert.deepEqual(envoyVersusBest(rows.filter((r) => r.proxy !== "envoy")), [], "no Envoy, no comparison");
  });

  it("prints a row per proxy and load, and the comparison", () => {
    const result: ProxiesResult = {
      machine: {
        cores: 2,
        loadAvgStart: [1, 1, 1],
        loadAvgEnd: [1, 1, 1],
        node: "v20",
        envoy: "1.40.0",
        clockTicksPerSec: 100,
      },
      versions: { envoy: "1.40.0", haproxy: "2.6.12", nginx: "1.22.1" },
      workers: 2,
      stepMs: 1000,
      repeats: 2,
      servers: 3,
      idle,
      rows,
      envoyVersusBest: envoyVersusBest(rows),
      runs,
    };
    const text = formatProxies(result);
    assert.match(text, /envoy 1\.40\.0, haproxy 2\.6\.12, nginx 1\.22\.1; 2 workers each/);
    assert.match(text, /^closed c=1 +haproxy +1000 +0\.70 +1\.40 +\+0\.20 +\+0\.40 +30 +0\.030 +0$/m);
    assert.match(text, /closed c=1 +added p50 \+0\.20 ms against haproxy, CPU per call 1\.67× haproxy's/);
  });
});

describe("bench: a proxy's processes", () => {
  it("reads the parent pid after the command name and finds this process's tree", () => {
    assert.equal(statParentPid("4242 (nginx: worker (x)) S 4200 4242 4242 0"), 4200);
    const tree = processTree(process.pid);
    assert.equal(tree[0], process.pid);
  });

  it("refuses an unknown proxy before starting anything", async () => {
    const { ctx } = captureContext();
    await assert.rejects(
      labBench.run(["--proxies", "envoy,traefik"], ctx),
      /--proxies must list distinct proxies of envoy, haproxy, nginx, got 'envoy,traefik'/,
    );
    await assert.rejects(labBench.run(["--proxies", "envoy,envoy"], ctx), /distinct/);
    await assert.rejects(labBench.run(["--proxy-workers", "0"], ctx), /--proxy-workers/);
  });
});
