import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { main } from "../../src/cli/main.js";
import { parsePodLine } from "../../src/engines/k8s/pod-watch.js";
import { allWithin } from "../../src/engines/k8s/report.js";
import { K8S_TIMING, k8sBudgets } from "../../src/engines/k8s/timing.js";
import type { RequestResult } from "../../src/loadgen/paced-load.js";
import { firstCallAt, span } from "../../src/scenarios/results.js";
import { captureContext } from "../helpers.js";

const call = (startMs: number, serverId: string | undefined): RequestResult => ({
  startMs,
  endMs: startMs + 1,
  serverId,
  code: serverId === undefined ? 14 : 0,
});

describe("grpc-lb k8s: bad input", () => {
  const cases: [string[], RegExp][] = [
    [["k8s"], /k8s: name a subcommand: scenario, envoy-hosts/],
    [["k8s", "deploy"], /unknown subcommand 'deploy'/],
    [
      ["k8s", "scenario"],
      /name one of rollout, scale, delete-pod, envoy-restart, envoy-delete-pod, envoy-scale/,
    ],
    [
      ["k8s", "scenario", "failover"],
      /--scenario must be one of rollout, scale, delete-pod, envoy-restart, envoy-delete-pod, envoy-scale, cert-rotation, xds-delete-pod, streams, got 'failover'/,
    ],
    [["k8s", "scenario", "scale", "extra"], /name one of/],
    [
      ["k8s", "scenario", "scale", "--namespace", "Bad_NS"],
      /--namespace must be a Kubernetes namespace name/,
    ],
    [["k8s", "scenario", "scale", "--wait-ms", "5"], /--wait-ms is for envoy-hosts/],
    [["k8s", "doctor", "--watch"], /--watch goes with 'k8s scenario' \(for a view alone: 'k8s watch'\)/],
    [["k8s", "envoy-hosts", "--wait-ms", "soon"], /--wait-ms must be an integer/],
    [["k8s", "envoy-hosts", "now"], /takes no argument/],
    [["k8s", "--nope"], /unknown option --nope/],
    [["k8s", "watch", "now"], /k8s watch: takes no argument/],
    [["k8s", "scenario", "rollout", "--interval", "1s"], /--interval goes with 'k8s watch' only/],
    [["k8s", "watch", "--format", "csv"], /--format must be one of text, json/],
  ];
  for (const [argv, message] of cases) {
    it(`exits 2 for: grpc-lb ${argv.join(" ")}`, async () => {
      const { ctx, stdout: out, stderr: err } = captureContext();
      assert.equal(await main(argv, ctx), 2);
      assert.match(err(), message);
      assert.equal(err().trim().split("\n").length, 1, "one line");
      assert.equal(out(), "");
    });
  }

  it("prints its usage with --help", async () => {
    const { ctx, stdout: out } = captureContext();
    assert.equal(await main(["k8s", "--help"], ctx), 0);
    assert.match(out(), /grpc-lb k8s scenario NAME/);
    assert.match(out(), /envoy-restart/);
  });
});

describe("k8s scenario measurements", () => {
  const results = [
    call(0, "a"),
    call(10, "b"),
    call(20, undefined),
    call(30, "a"),
    call(40, "c"),
    call(50, "b"),
  ];

  it("finds a server's first call from a time on, and its last call", () => {
    assert.equal(firstCallAt(results, "a"), 0);
    assert.equal(firstCallAt(results, "a", 5), 30);
    assert.equal(firstCallAt(results, "c", 41), undefined);
  });

  it("marks an unknown span -1, which fails a budget check", () => {
    assert.equal(span(10, 25.04), 15);
    assert.equal(span(undefined, 3), -1);
    assert.equal(allWithin("t", [10, 20], 20).ok, true);
    assert.equal(allWithin("t", [10, 21], 20).ok, false);
    assert.equal(allWithin("t", [10, -1], 20).ok, false);
    assert.equal(allWithin("t", [], 20).ok, false);
    assert.match(allWithin("t", [10, 21], 20).detail, /10, 21 ms \(budget 20 ms\)/);
  });

  it("reads the pod watch's lines: ready, terminating, not yet scheduled", () => {
    assert.deepEqual(parsePodLine("server-a|10.244.0.5||True", 12), {
      atMs: 12,
      name: "server-a",
      ip: "10.244.0.5",
      ready: true,
      deleting: false,
    });
    assert.deepEqual(parsePodLine("server-a|10.244.0.5|2026-11-26T02:40:00Z|False  ", 13), {
      atMs: 13,
      name: "server-a",
      ip: "10.244.0.5",
      ready: false,
      deleting: true,
    });
    assert.equal(parsePodLine("server-b|||", 1)?.ready, false);
    assert.equal(parsePodLine("", 1), undefined);
  });

  it("derives its budgets from the kubernetes preset's Envoy timings", () => {
    const b = k8sBudgets();
    // DNS: two refresh periods (5 s) + slack + CoreDNS's TTL (5 s), no merge window for a removal; health checks take longer.
    assert.equal(b.removalMs, 15_250);
    // A refresh + (healthy threshold 1 + 1) × 5 s checks + 1 s timeout + merge window + slack + the TTL.
    assert.equal(b.joinMs, 22_250);
    // By xDS: no refresh and no TTL, the same checks, merge window and slack.
    assert.equal(k8sBudgets("xds").joinMs, 12_250);
    assert.equal(k8sBudgets("xds").removalMs, b.removalMs);
    assert.ok(
      b.removalMs < K8S_TIMING.serverDrainDelayMs,
      "a removed pod is out of rotation before it refuses calls",
    );
  });
});
