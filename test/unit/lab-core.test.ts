import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EnvoyAdmin } from "../../src/envoy/admin.js";
import { LAB_ENVOY } from "../../src/lab/lab-envoy-options.js";
import { layerLabOptions, resolveLabOptions } from "../../src/lab/options.js";
import { runScenarioOn } from "../../src/scenarios/runner.js";
import type { Scenario, ScenarioOutcome } from "../../src/scenarios/scenario.js";
import { Disposers } from "../../src/util/disposers.js";

describe("the lab's disposers", () => {
  it("run last-in first-out, once, all of them even when one fails, then rethrow the first failure", async () => {
    const d = new Disposers();
    const ran: string[] = [];
    d.defer(async () => void ran.push("dns"));
    d.defer(async () => {
      ran.push("servers");
      throw new Error("servers would not stop");
    });
    const envoy = d.use({ name: "envoy" }, async (e) => void ran.push(e.name));
    assert.equal(envoy.name, "envoy");
    await assert.rejects(d.dispose(), /servers would not stop/);
    await assert.rejects(d.dispose(), /servers would not stop/);
    assert.deepEqual(ran, ["envoy", "servers", "dns"]);
    assert.throws(() => d.defer(async () => {}), /already released/);
  });
});

describe("lab options", () => {
  it("layer Envoy's options field by field over the lab's defaults, resolved once", () => {
    const o = resolveLabOptions(
      layerLabOptions({ servers: 3, envoy: { dnsRefreshMs: 250 } }, { envoy: { policy: "random" } }),
    );
    assert.equal(o.servers, 3);
    assert.equal(o.envoy.dnsRefreshMs, 250, "the scenario's layer survives the user's");
    assert.equal(o.envoy.policy, "random");
    assert.deepEqual(o.envoy.healthCheck, LAB_ENVOY.healthCheck);
    assert.equal(o.serverDrainDelayMs, 3 * 100, "derived from the health-check interval");
    assert.equal(o.topology, "headless");
  });

  it("refuse what cannot run, naming the flag", () => {
    assert.throws(() => resolveLabOptions({ servers: 0 }), /--servers must be from 1/);
    assert.throws(
      () => resolveLabOptions({ envoy: { listenPort: 5000, adminPort: 5000 } }),
      /cannot both be 5000/,
    );
    assert.throws(() => resolveLabOptions({ envoys: 0 }), /--envoys must be from 1 to 8, got 0/);
    assert.throws(() => resolveLabOptions({ envoys: 1.5 }), /--envoys must be from 1/);
    assert.equal(resolveLabOptions({}).envoys, 1);
  });
});

describe("the scenario runner", () => {
  // Nothing listens here: a scenario that fails before its report never reads Envoy's stats.
  const target = { listenAddress: "127.0.0.1:1", admin: new EnvoyAdmin("127.0.0.1:1") };

  it("reports a wait that gives up as what was being waited for, under the scenario's name", async () => {
    const stuck: Scenario<null> = {
      name: "stuck",
      summary: "waits for what never happens",
      load: "none",
      run: (ctx) => ctx.waitFor<ScenarioOutcome>("the moon to turn blue", () => undefined, 50),
    };
    await assert.rejects(runScenarioOn(stuck, null, target), (e: Error) => {
      assert.equal(e.name, "LabError");
      assert.match(e.message, /^lab: scenario stuck: gave up after 50 ms waiting for the moon to turn blue$/);
      return true;
    });
  });

  it("ends every wait as soon as the signal is aborted", async () => {
    const ac = new AbortController();
    const waiting: Scenario<null> = {
      name: "waiting",
      summary: "waits a minute",
      load: "none",
      run: async (ctx) => {
        setTimeout(() => ac.abort(new Error("received SIGINT")), 20);
        return ctx.waitFor<ScenarioOutcome>("a minute to pass", () => undefined, 60_000);
      },
    };
    const t0 = performance.now();
    await assert.rejects(runScenarioOn(waiting, null, target, ac.signal), /received SIGINT/);
    assert.ok(performance.now() - t0 < 5000, "not the wait's own deadline");
  });

  it("says which bound of the load ended it when a wait on calls can no longer be met", async () => {
    // Nothing listens on the target: every call fails at once, so the 20-call bound comes first.
    const paced: Scenario<null> = {
      name: "bounded",
      summary: "waits for more calls than the load may send",
      load: "paced",
      allowFailedCalls: true,
      run: async () => ({ checks: [], measurements: {}, distributions: [] }),
    };
    const t0 = performance.now();
    await assert.rejects(
      runScenarioOn(paced, null, target, undefined, { bounds: { maxRequests: 20, maxDurationMs: 60_000 } }),
      /^LabError: lab: scenario bounded: the load reached its bound of 20 calls \(maxRequests\) before 200 more calls/,
    );
    assert.ok(performance.now() - t0 < 10_000, "not the wait's own deadline");
  });

  it("ends a wait at once when the target is gone, saying why", async () => {
    const gone = {
      ...target,
      ensureUp: () => {
        throw new Error("envoy exited with code 1");
      },
    };
    const waiting: Scenario<null> = {
      name: "orphaned",
      summary: "waits on an Envoy that died",
      load: "none",
      run: (ctx) => ctx.waitFor<ScenarioOutcome>("hosts to change", () => undefined, 60_000),
    };
    const t0 = performance.now();
    await assert.rejects(
      runScenarioOn(waiting, null, gone),
      /^LabError: lab: scenario orphaned: envoy exited with code 1$/,
    );
    assert.ok(performance.now() - t0 < 5000);
  });
});
