import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clusterOptions } from "../../src/cli/commands/lab/cluster-flags.js";
import type { PoolChange } from "../../src/lab/server-pool.js";
import type { LabServer } from "../../src/lab/servers.js";
import { labXdsSource } from "../../src/lab/xds-source.js";

/** Servers as the pool hands them out; the source reads only host and port. */
const server = (i: number): LabServer => ({ index: i, host: `127.77.0.${i + 1}`, port: 50051 }) as LabServer;

function fakePool(live: LabServer[]) {
  const watchers = new Set<(c: PoolChange) => void>();
  return {
    live: () => live,
    watch(fn: (c: PoolChange) => void) {
      watchers.add(fn);
      return () => watchers.delete(fn);
    },
    tell: (kind: PoolChange["kind"], s: LabServer) => {
      for (const w of watchers) w({ kind, server: s });
    },
    watchers,
  };
}

describe("the lab's xDS source follows the server pool", () => {
  it("ready → HEALTHY, SIGTERM → DRAINING, exited → removed; synced from the start", () => {
    const [a, b, c] = [server(0), server(1), server(2)] as [LabServer, LabServer, LabServer];
    const pool = fakePool([a, b]);
    const { source, stop } = labXdsSource(pool);
    const view = () => source.current()?.map((e) => `${e.address} ${e.health}`);
    assert.deepEqual(view(), ["127.77.0.1 HEALTHY", "127.77.0.2 HEALTHY"]);
    let changes = 0;
    source.watch(() => changes++);
    pool.tell("ready", c);
    pool.tell("draining", a);
    assert.deepEqual(view(), ["127.77.0.1 DRAINING", "127.77.0.2 HEALTHY", "127.77.0.3 HEALTHY"]);
    pool.tell("gone", a);
    pool.tell("gone", a);
    pool.tell("draining", a);
    assert.deepEqual(view(), ["127.77.0.2 HEALTHY", "127.77.0.3 HEALTHY"]);
    assert.equal(changes, 3, "a server already gone changes nothing");
    stop();
    assert.equal(pool.watchers.size, 0);
  });

  it("holds newcomers back until released, with what became of them meanwhile", () => {
    const [a, b, c, d] = [server(0), server(1), server(2), server(3)] as [
      LabServer,
      LabServer,
      LabServer,
      LabServer,
    ];
    const pool = fakePool([a, b]);
    const { source, holdNewcomers } = labXdsSource(pool);
    const view = () => source.current()?.map((e) => `${e.address} ${e.health}`);
    let changes = 0;
    source.watch(() => changes++);
    const release = holdNewcomers();
    pool.tell("ready", c);
    pool.tell("ready", d);
    pool.tell("gone", d);
    pool.tell("draining", b);
    assert.deepEqual(
      view(),
      ["127.77.0.1 HEALTHY", "127.77.0.2 DRAINING"],
      "servers known before still change",
    );
    assert.equal(changes, 1);
    release();
    assert.deepEqual(view(), ["127.77.0.1 HEALTHY", "127.77.0.2 DRAINING", "127.77.0.3 HEALTHY"]);
    release();
    pool.tell("draining", c);
    assert.deepEqual(view()?.[2], "127.77.0.3 DRAINING", "a released newcomer is followed as any server");
    assert.equal(changes, 3);
  });

  it("--discovery takes dns for the default (headless) and xds", () => {
    assert.equal(clusterOptions("lab", { discovery: "dns" }).topology, "headless");
    assert.equal(clusterOptions("lab", { discovery: "xds" }).topology, "xds");
    assert.throws(
      () => clusterOptions("lab", { discovery: "eds" }),
      /--discovery must be one of headless, clusterip, xds/,
    );
  });
});
