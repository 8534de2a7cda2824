import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { showWatch } from "../../src/cli/commands/watch.js";
import { main } from "../../src/cli/main.js";
import { CLUSTER_NAME } from "../../src/envoy/bootstrap.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { formatHostPort } from "../../src/util/address.js";
import { waitFor } from "../../src/util/wait.js";
import { captureContext, killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

/** The load's rate, calls per second, and how far a 1 s interval's sum may be from it. */
const RPS = 200;
const TOLERANCE = 0.25;
const INTERVAL_MS = 1000;
const COUNT = 3;

interface Line {
  ts: string;
  cluster: string;
  intervalMs: number;
  hosts: { address: string; rps: number; share: number; health: string }[];
}

describe("grpc-lb watch on a real lab", () => {
  let lab: LabCluster;
  let admin: string;
  before(async () => {
    lab = await startLabCluster(resolveLabOptions({ servers: 3 }));
    admin = lab.envoy.admin.address;
  });
  after(async () => {
    await lab?.stop();
  });

  it(`--format json --count ${COUNT}: ${COUNT} lines, every server, rates adding up to the load's`, async () => {
    // Bounded in calls and time; stopped by SIGINT once watch is done.
    const load = spawnCli(
      ["load", "--target", lab.listenAddress, "--rps", String(RPS), "-c", "10"].concat([
        "-z",
        "60s",
        "-n",
        String(RPS * 60),
      ]),
    );
    const total = async (): Promise<number> =>
      [...((await lab.envoy.admin.hostCounters()).get(CLUSTER_NAME)?.values() ?? [])].reduce(
        (n, c) => n + (c.rq_total ?? 0),
        0,
      );
    const before = await total();
    // The load is under way once Envoy has sent a second's worth of its calls.
    await waitFor(
      "the load to go through Envoy",
      async () => ((await total()) - before >= RPS ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 50,
      },
    );
    const watch = spawnCli([
      "watch",
      "--admin",
      `http://${admin}`,
      "--format",
      "json",
      "--count",
      String(COUNT),
    ]);
    const { code } = await watch.exit;
    const loadStillRunning = load.child.exitCode === null;
    load.child.kill("SIGINT");
    await load.exit;
    assert.equal(code, 0, watch.stderr());
    assert.equal(watch.stderr(), "");
    assert.ok(loadStillRunning, "the load ran for the whole watch");
    assert.equal(watch.lines.length, COUNT, watch.lines.join("\n"));
    const servers = lab
      .servers()
      .map((s) => formatHostPort(s.host, s.port))
      .sort();
    for (const text of watch.lines) {
      const line = JSON.parse(text) as Line;
      assert.equal(line.cluster, CLUSTER_NAME);
      assert.ok(Math.abs(line.intervalMs - INTERVAL_MS) < INTERVAL_MS / 2, `interval ${line.intervalMs} ms`);
      assert.deepEqual(line.hosts.map((h) => h.address).sort(), servers);
      const sum = line.hosts.reduce((n, h) => n + h.rps, 0);
      assert.ok(
        Math.abs(sum - RPS) <= RPS * TOLERANCE,
        `hosts' rates add up to ${sum.toFixed(1)}, the load sends ${RPS}/s`,
      );
      for (const h of line.hosts) {
        assert.ok(h.rps > 0 && h.share > 0, `${h.address} took no call: ${text}`);
        assert.equal(h.health, "healthy");
      }
    }
  });

  it("Ctrl-C ends it at once with exit 0 and nothing on stderr", async () => {
    const watch = spawnCli(["watch", "--admin", admin, "--interval", "10s"]);
    await watch.line((l) => l.includes("first reading"));
    const t0 = performance.now();
    watch.child.kill("SIGINT");
    const { code } = await watch.exit;
    assert.equal(code, 0);
    assert.equal(watch.stderr(), "");
    assert.ok(performance.now() - t0 < 5000, "it did not wait for the next reading, 10 s away");
  });

  it("an unknown --cluster: exit 2, naming Envoy's clusters", async () => {
    const c = captureContext();
    assert.equal(await main(["watch", "--admin", admin, "--cluster", "nope"], c.ctx), 2);
    assert.match(c.stderr(), new RegExp(`has no cluster 'nope'; its clusters: ${CLUSTER_NAME}\\n$`));
  });

  it("an admin API that does not answer: exit 1, one line", async () => {
    const c = captureContext();
    assert.equal(await main(["watch", "--admin", "127.0.0.1:1", "--count", "1"], c.ctx), 1);
    assert.match(c.stderr(), /^grpc-lb: envoy: no admin API answers at http:\/\/127\.0\.0\.1:1: .*\n$/);
  });

  it("names each section as told (k8s watch names a pod): the JSON line's admin is that name", async () => {
    const c = captureContext();
    const flags = { cluster: undefined, intervalMs: 100, count: 1, format: "json" } as const;
    await showWatch([admin], flags, c.ctx, undefined, ["pod/envoy-a"]);
    const lines = c
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { admin: string; cluster: string });
    assert.deepEqual(
      lines.map((l) => [l.admin, l.cluster]),
      [["pod/envoy-a", CLUSTER_NAME]],
    );
  });

  it("bad flags: exit 2", async () => {
    for (const args of [
      [],
      ["--admin", "x"],
      ["--admin", admin, "--interval", "5"],
      ["--admin", admin, "--format", "csv"],
    ]) {
      const c = captureContext();
      assert.equal(await main(["watch", ...args], c.ctx), 2, args.join(" "));
    }
  });
});

describe("grpc-lb watch on a tier of two Envoys", () => {
  let lab: LabCluster;
  before(async () => {
    lab = await startLabCluster(resolveLabOptions({ servers: 2, envoys: 2 }));
  });
  after(async () => {
    await lab?.stop();
  });

  it("repeated --admin: one line per Envoy and interval, the two adding up to the load", async () => {
    const envoys = lab.tier?.envoys ?? [];
    assert.equal(envoys.length, 2);
    // Two connections: the connection balancer in front gives one to each Envoy.
    const load = spawnCli(
      ["load", "--target", lab.listenAddress, "--rps", String(RPS), "--connections", "2", "-c", "10"].concat([
        "-z",
        "60s",
        "-n",
        String(RPS * 60),
      ]),
    );
    const moved = async (): Promise<boolean> => {
      const totals = await Promise.all(
        envoys.map((e) => e.admin.stat(`cluster.${CLUSTER_NAME}.upstream_rq_total`)),
      );
      return totals.every((n) => (n ?? 0) >= RPS / 4);
    };
    await waitFor("the load to go through both Envoys", async () => ((await moved()) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const admins = envoys.map((e) => e.admin.address);
    const watch = spawnCli([
      "watch",
      ...admins.flatMap((a) => ["--admin", a]),
      "--format",
      "json",
      "--count",
      "2",
    ]);
    const { code } = await watch.exit;
    load.child.kill("SIGINT");
    await load.exit;
    assert.equal(code, 0, watch.stderr());
    const lines = watch.lines.map((l) => JSON.parse(l) as Line & { admin: string });
    assert.deepEqual(
      lines.map((l) => l.admin),
      [...admins, ...admins],
    );
    for (const pair of [lines.slice(0, 2), lines.slice(2)]) {
      const sum = pair.flatMap((l) => l.hosts).reduce((n, h) => n + h.rps, 0);
      assert.ok(Math.abs(sum - RPS) <= RPS * TOLERANCE, `both Envoys' hosts add up to ${sum.toFixed(1)}/s`);
      for (const l of pair) assert.equal(l.hosts.length, 2);
    }
  });
});

describe("a scenario shown live (--watch)", () => {
  it("lab scenario drain --watch draws cluster 'server' on stderr while it runs, the verdict on stdout", async () => {
    const run = spawnCli(["lab", "scenario", "drain", "--watch"]);
    const { code } = await run.exit;
    assert.equal(code, 0, run.stderr());
    const frames = run.stderr().match(/^Envoy \S+: cluster 'server' \(as asked\), 3 hosts/gm) ?? [];
    // The first reading, then one frame a second over a run of several seconds.
    assert.ok(frames.length >= 2, run.stderr());
    assert.match(
      run.stderr(),
      /^ {2}127\.77\.0\.1:\d+ +\d+\.\d/m,
      "a rate per host once there are two readings",
    );
    assert.match(run.lines.join("\n"), /scenario drain: PASS/);
  });
});
