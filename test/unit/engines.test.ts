import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composePreset, kubernetesPreset } from "../../src/deploy/presets.js";
import { describeTimings, engineBudgets } from "../../src/envoy/budgets.js";
import { resolveEnvoyConfigOptions } from "../../src/envoy/options.js";
import type { RequestResult } from "../../src/loadgen/paced-load.js";
import { notRoutedTo, probeMatches, routesToExactly } from "../../src/routing/wait-hosts.js";
import { callsStartedSince, firstReplies, lastReplyMs } from "../../src/scenarios/results.js";

const host = (address: string, healthy: boolean) => ({ address, port: 50051, healthy, requestsTotal: 0 });
const ok = (serverId: string, startMs: number, endMs = startMs + 1): RequestResult => ({
  serverId,
  startMs,
  endMs,
  code: 0,
});

describe("engine budgets", () => {
  it("follow from the Compose config's timings (2 s checks and refresh, 1 s merge window)", () => {
    const b = engineBudgets(resolveEnvoyConfigOptions(composePreset.envoy));
    // (2 + 1) × 2000 + 2 × 1000 + 1000 merge window + 250 slack; 2000 + (1 + 1) × 2000 + 1000 + 1000 + 250; 2 × 2000 + 250.
    assert.deepEqual(b, { detectionMs: 9250, joinMs: 8250, removalMs: 4250 });
    assert.match(
      describeTimings(resolveEnvoyConfigOptions(composePreset.envoy)),
      /every 2000 ms .*DNS refresh every 2000 ms/,
    );
  });

  it("grow with the production defaults the Kubernetes config keeps", () => {
    const b = engineBudgets(resolveEnvoyConfigOptions(kubernetesPreset.envoy));
    assert.deepEqual(b, { detectionMs: 18_250, joinMs: 17_250, removalMs: 10_250 });
  });

  it("without health checks, detection is left to DNS", () => {
    const b = engineBudgets(resolveEnvoyConfigOptions({ healthCheck: false, dnsRefreshMs: 1000 }));
    assert.equal(b.detectionMs, 2250);
    assert.equal(b.joinMs, 1000 + 1000 + 250);
  });
});

describe("engine host predicates", () => {
  const hosts = [host("10.0.0.1", true), host("10.0.0.2", false), host("10.0.0.3", true)];

  it("a host is not routed to when gone or unhealthy", () => {
    assert.equal(notRoutedTo("10.0.0.2:50051")(hosts), true);
    assert.equal(notRoutedTo("10.0.0.9:50051")(hosts), true);
    assert.equal(notRoutedTo("10.0.0.1:50051")(hosts), false);
  });

  it("routes to exactly the healthy set", () => {
    assert.equal(routesToExactly(["10.0.0.1:50051", "10.0.0.3:50051"])(hosts), true);
    assert.equal(routesToExactly(["10.0.0.1:50051"])(hosts), false);
    assert.equal(routesToExactly(["10.0.0.1:50051", "10.0.0.2:50051", "10.0.0.3:50051"])(hosts), false);
  });

  it("a probe confirms the load balancer only when exactly the healthy hosts answered", () => {
    const probe = (answered: string[], failed: Record<string, number> = {}) => ({
      answered: new Map(answered.map((a) => [`${a}:50051`, 3])),
      failed,
    });
    assert.equal(probeMatches(hosts, probe(["10.0.0.1", "10.0.0.3"]), "address"), true);
    // The balancer has not taken 10.0.0.3 yet, or still has 10.0.0.2.
    assert.equal(probeMatches(hosts, probe(["10.0.0.1"]), "address"), false);
    assert.equal(probeMatches(hosts, probe(["10.0.0.1", "10.0.0.2", "10.0.0.3"]), "address"), false);
    assert.equal(probeMatches(hosts, probe(["10.0.0.1", "10.0.0.3"], { UNAVAILABLE: 1 }), "address"), false);
    // Behind one virtual IP a reply names a server Envoy does not know: any reply from the one host will do.
    const vip = [host("10.96.0.5", true)];
    assert.equal(probeMatches(vip, probe(["10.244.0.7"]), "opaque"), true);
    assert.equal(probeMatches(vip, probe([]), "opaque"), false);
    assert.equal(probeMatches(hosts, probe(["10.244.0.7"]), "opaque"), false);
  });
});

describe("engine load helpers", () => {
  it("lastReplyMs takes the last call a server answered that ended before a time", () => {
    const results = [ok("a", 10), ok("b", 20), ok("a", 30), ok("a", 90, 95)];
    assert.equal(lastReplyMs(results, "a"), 90);
    assert.equal(lastReplyMs(results, "a", 50), 30);
    assert.equal(lastReplyMs(results, "c"), undefined);
  });

  it("firstReplies gives each server's first call after a time, once every one has answered", () => {
    const results = [ok("a", 5), ok("b", 12), ok("a", 15), ok("b", 11)];
    const first = firstReplies(results, ["a", "b"], 10);
    assert.deepEqual([...(first ?? new Map()).entries()].sort(), [
      ["a", 15],
      ["b", 11],
    ]);
    assert.equal(firstReplies(results, ["a", "z"], 10), undefined);
  });

  it("callsStartedSince counts only calls started at or after a time", () => {
    const results = [ok("a", 1), ok("a", 2), ok("a", 11), ok("b", 10)];
    assert.equal(callsStartedSince(results, 10), 2);
    assert.equal(callsStartedSince(results, 100), 0);
  });
});
