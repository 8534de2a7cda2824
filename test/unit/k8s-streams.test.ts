import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  serverDeploymentOf,
  serverPatch,
  strategyRestore,
} from "../../src/engines/k8s/scenarios/server-patch.js";
import {
  fairShareBudget,
  K8S_STREAMS_STRATEGY,
  K8S_STREAMS_TIMINGS,
  LIFETIME_FLAG,
  streamsGoneAt,
  streamsTimeline,
  withStreamLifetime,
} from "../../src/engines/k8s/scenarios/streams-plan.js";
import { noFailedStreams, streamCalls } from "../../src/engines/k8s/scenarios/streams-verdict.js";
import { STRATEGIES } from "../../src/lab/scenarios/streams-strategies.js";
import type { StreamReport, StreamSample } from "../../src/loadgen/streams/stream-report.js";
import { streamReport } from "../stream-fixtures.js";

const BASE_ARGS = ["grpc-lb", "serve", "--port", "50051", "--drain-delay-ms", "20000"];

const report = (over: Partial<StreamReport> = {}): StreamReport => streamReport({ streams: 30, ...over });

const sample = (atMs: number, byServer: Record<string, number>): StreamSample => ({
  atMs,
  open: Object.values(byServer).reduce((a, b) => a + b, 0),
  byServer,
});

describe("k8s scenario streams: the server's flag", () => {
  it("uses the strategy the lab recommends", () => {
    assert.equal(STRATEGIES[K8S_STREAMS_STRATEGY].recommended, true);
  });

  it("adds the lifetime to the args, replacing an earlier one in either form", () => {
    assert.deepEqual(withStreamLifetime(BASE_ARGS, 4000), [...BASE_ARGS, LIFETIME_FLAG, "4000"]);
    assert.deepEqual(withStreamLifetime([...BASE_ARGS, LIFETIME_FLAG, "9000"], 4000), [
      ...BASE_ARGS,
      LIFETIME_FLAG,
      "4000",
    ]);
    assert.deepEqual(withStreamLifetime([`${LIFETIME_FLAG}=9000`, ...BASE_ARGS], 4000), [
      ...BASE_ARGS,
      LIFETIME_FLAG,
      "4000",
    ]);
  });

  it("reads the server container's args and the strategy, and patches them back", () => {
    const strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    const deployment = {
      spec: {
        strategy,
        template: {
          spec: {
            containers: [
              { name: "sidecar", args: ["x"] },
              { name: "server", args: BASE_ARGS },
            ],
          },
        },
      },
    };
    const d = serverDeploymentOf(JSON.stringify(deployment));
    assert.deepEqual(d, { args: BASE_ARGS, strategy });
    assert.throws(() => serverDeploymentOf(JSON.stringify({ spec: {} })), /no container named server/);
    const containers = [{ name: "server", args: ["a"] }];
    assert.deepEqual(JSON.parse(serverPatch(["a"], d, { replicas: 3, allAtOnce: true })), {
      spec: {
        replicas: 3,
        strategy: { rollingUpdate: { maxSurge: "100%" } },
        template: { spec: { containers } },
      },
    });
    assert.deepEqual(JSON.parse(serverPatch(["a"], d)), { spec: { template: { spec: { containers } } } });
    // A Recreate deployment has no surge to set.
    const recreate = { ...d, strategy: { type: "Recreate" } };
    assert.equal(JSON.parse(serverPatch(["a"], recreate, { allAtOnce: true })).spec.strategy, undefined);
    assert.deepEqual(JSON.parse(strategyRestore(d)), [
      { op: "replace", path: "/spec/strategy", value: strategy },
    ]);
  });
});

describe("k8s scenario streams: budgets and counts", () => {
  it("budgets the fair share: pods Ready, Envoy's join, the stream's age, slack", () => {
    const b = fairShareBudget(8198.4, 22_250, K8S_STREAMS_TIMINGS);
    assert.equal(b.ageMs, K8S_STREAMS_TIMINGS.rebalanceMs);
    assert.equal(b.totalMs, Math.round(8198.4 + 22_250 + b.ageMs + b.slackMs));
    assert.ok(b.slackMs > 0);
  });

  it("counts every Subscribe call, and every failure in the headline", () => {
    const clean = report({ endsByStatus: { OK: 40 }, resumes: 40, delivered: 900 });
    assert.deepEqual(streamCalls(clean), { total: 70, ok: 70, failed: 0, errors: {} });
    assert.equal(noFailedStreams(clean).ok, true);
    const reset = report({ endsByStatus: { OK: 40, INTERNAL: 3 }, resumes: 43 });
    assert.deepEqual(streamCalls(reset), { total: 73, ok: 70, failed: 3, errors: { INTERNAL: 3 } });
    assert.match(noFailedStreams(reset).detail, /^3 of 73 Subscribe calls failed \(INTERNAL 3\)/);
    assert.equal(noFailedStreams(reset).ok, false);
    for (const bad of [{ lost: 1 }, { duplicated: 1 }, { failedStreams: 1, failures: ["stream 1: x"] }]) {
      assert.equal(noFailedStreams(report(bad)).ok, false, JSON.stringify(bad));
    }
  });
});

describe("k8s scenario streams: the timeline", () => {
  const samples = [
    sample(0, { a: 10, b: 10, c: 10 }),
    sample(900, { a: 10, b: 10, c: 10 }),
    sample(2100, { a: 6, b: 6, c: 6, d: 6, e: 6 }),
    sample(3900, { b: 5, c: 5, d: 5, e: 5, f: 5, g: 5 }),
  ];

  it("takes the last sample at or before each step, the servers in order, then the shares at the end", () => {
    const rows = streamsTimeline(
      samples,
      "3 → 6",
      { fromMs: 1000, toMs: 4000, stepMs: 2000 },
      ["a", "b", "c", "d"],
      {
        a: 5,
        e: 25,
      },
    );
    assert.deepEqual(
      rows.map((r) => r.phase),
      ["3 → 6 +0.0 s", "3 → 6 +2.0 s", "3 → 6 +3.0 s"],
    );
    assert.deepEqual(rows[0]?.backends, { a: 10, b: 10, c: 10, d: 0 });
    assert.deepEqual(Object.keys(rows[1]?.backends ?? {}), ["a", "b", "c", "d", "e"]);
    assert.deepEqual(rows[2]?.backends, { a: 5, b: 0, c: 0, d: 0, e: 25 });
  });

  it("finds when a server's last stream went, not before a time", () => {
    assert.equal(streamsGoneAt(samples, "a", 0), 3900);
    assert.equal(streamsGoneAt(samples, "g", 0), undefined);
    assert.equal(streamsGoneAt(samples, "z", 1000), 2100);
  });
});
