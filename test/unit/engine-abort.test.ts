import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startLoad } from "../../src/loadgen/engine.js";

// Port 1 on loopback: nothing listens, so the connections never become ready.
const NOWHERE = "127.0.0.1:1";

describe("the load engine and its caller's signal", () => {
  it("makes no call when the signal was aborted before the run started", async () => {
    const controller = new AbortController();
    controller.abort();
    const t = performance.now();
    const report = await startLoad({ target: NOWHERE, requests: 1000, signal: controller.signal }).done;
    assert.equal(report.requests.total, 0);
    assert.equal(report.interrupted, true);
    assert.ok(performance.now() - t < 1000, "it returned at once");
  });

  it("stops waiting for connections as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const run = startLoad({
      target: NOWHERE,
      requests: 10,
      connectTimeoutMs: 10_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    const t = performance.now();
    const report = await run.done;
    assert.equal(report.requests.total, 0);
    assert.ok(
      performance.now() - t < 1500,
      `returned ${Math.round(performance.now() - t)} ms after the start`,
    );
  });

  it("still gives up on a target that never connects, naming it", async () => {
    await assert.rejects(
      startLoad({ target: NOWHERE, requests: 1, connectTimeoutMs: 300 }).done,
      /cannot connect to 127\.0\.0\.1:1 within 300 ms over plaintext \(channel (TRANSIENT_FAILURE|CONNECTING|IDLE)\)/,
    );
  });
});
