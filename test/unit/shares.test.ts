import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sharesPct, startShareSampler } from "../../src/scenarios/shares.js";
import { waitFor } from "../../src/util/wait.js";

describe("the share sampler", () => {
  it("counts each key's requests per window, a key seen later from 0, and judges the balance", async () => {
    // Read n: a takes 10 per read, b 2 per read, c appears at read 3 and takes 10 per read.
    let reads = 0;
    const read = async (): Promise<Map<string, number>> => {
      const n = reads++;
      const totals = new Map([
        ["a", 10 * n],
        ["b", 2 * n],
      ]);
      if (n >= 3) totals.set("c", 100 + 10 * (n - 3));
      return totals;
    };
    // The clock is the read count, in steps of 10 ms: the test does not depend on timers.
    const sampler = startShareSampler(read, () => reads * 10, 1);
    await waitFor("8 samples", () => (reads >= 8 ? true : undefined), { timeoutMs: 5000, intervalMs: 1 });
    await sampler.stop();
    const last = reads * 10;
    // Between the samples of reads 0 and 5 (at 10 and 60 ms): c, absent from the first, counts from 0.
    assert.deepEqual(Object.fromEntries(sampler.between(10, 60)), { a: 50, b: 10, c: 120 });
    // b has 1/6 of a and b's calls, a third of its fair share: not about even, but reached.
    assert.equal(sampler.balanced(["a", "b"], last, 1 / 2), undefined);
    const reached = sampler.balanced(["a", "b"], last, 1 / 4);
    assert.ok(reached);
    assert.equal(reached.get("a"), 5 * (reached.get("b") ?? 0));
    // a key nobody reported counts as 0: never balanced.
    assert.equal(sampler.balanced(["a", "d"], last, 1 / 4), undefined);
    assert.deepEqual(
      sharesPct(
        new Map([
          ["a", 3],
          ["b", 1],
        ]),
      ),
      [75, 25],
    );
    assert.deepEqual(sharesPct(new Map([["a", 0]])), [0]);
  });

  it("a failed read counts as no sample of any key, and stop() ends the loop", async () => {
    let reads = 0;
    const sampler = startShareSampler(
      async () => {
        reads += 1;
        throw new Error("admin down");
      },
      () => reads,
      1,
    );
    await waitFor("3 reads", () => (reads >= 3 ? true : undefined), { timeoutMs: 5000, intervalMs: 1 });
    await sampler.stop();
    const after = reads;
    assert.equal(sampler.balanced(["a"], 100, 1 / 2), undefined);
    await new Promise((r) => setImmediate(r));
    assert.equal(reads, after, "no read after stop");
  });
});
