import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LISTENER_NAME } from "../../src/envoy/bootstrap.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { DEFAULT_VIRTUAL_IP, resolveLabOptions } from "../../src/lab/options.js";
import type { LoadReport } from "../../src/loadgen/report.js";
import { formatHostPort } from "../../src/util/address.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

/** Runs `grpc-lb load ARGS --json` and returns its exit code, report and stderr. */
async function load(args: string[]): Promise<{ code: number | null; report: LoadReport; stderr: string }> {
  const run = spawnCli(["load", ...args, "--json"]);
  const { code } = await run.exit;
  const text = run.lines.join("\n");
  assert.ok(text.startsWith("{"), `no JSON report (exit ${code}); stderr:\n${run.stderr()}`);
  return { code, report: JSON.parse(text) as LoadReport, stderr: run.stderr() };
}

/** The port every lab server shares (they differ by loopback address). */
function serverPort(cluster: LabCluster): number {
  const [first] = cluster.servers();
  assert.ok(first, "the lab has a server");
  return first.port;
}

const downstreamConnections = async (cluster: LabCluster): Promise<number> =>
  (await cluster.envoy.admin.stat(`http.${LISTENER_NAME}.downstream_cx_total`)) ?? -1;

describe("grpc-lb load through Envoy (headless discovery)", () => {
  let cluster: LabCluster;
  before(async () => {
    cluster = await startLabCluster(resolveLabOptions({ servers: 3 }));
  });
  after(async () => {
    await cluster?.stop();
  });

  it("passes the balance gate and opens exactly --connections connections", async () => {
    const before = await downstreamConnections(cluster);
    const { code, report, stderr } = await load([
      "--target",
      cluster.listenAddress,
      ...["-n", "300", "-c", "6", "--connections", "3"],
      ...["--expect-backends", "3", "--max-imbalance", "5"],
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(report.requests, { total: 300, ok: 300, failed: 0 });
    assert.equal(report.perBackend.length, 3);
    // Each of Envoy's 2 workers keeps its own round robin: near, not exactly, even.
    assert.ok((report.imbalance.maxMinRatio ?? 99) <= 1.05, `max/min ${report.imbalance.maxMinRatio}`);
    assert.equal(await downstreamConnections(cluster), before + 3, "Envoy's downstream_cx_total grew by 3");
    assert.deepEqual(
      report.connectionStats.map((c) => [c.slot, c.generation, c.calls]),
      [
        [1, 0, 100],
        [2, 0, 100],
        [3, 0, 100],
      ],
    );
    // Per request balancing: every connection reached every server.
    for (const c of report.connectionStats) assert.equal(Object.keys(c.backends).length, 3);
  });

  it("--new-connection-every K opens a new connection every K calls", async () => {
    const before = await downstreamConnections(cluster);
    const { code, report } = await load([
      ...["--target", cluster.listenAddress, "-n", "40", "--new-connection-every", "10"],
    ]);
    assert.equal(code, 0);
    assert.equal(await downstreamConnections(cluster), before + 4);
    assert.deepEqual(
      report.connectionStats.map((c) => [c.generation, c.calls]),
      [
        [0, 10],
        [1, 10],
        [2, 10],
        [3, 10],
      ],
    );
  });

  it("server streams each stay on one backend and spread over all three", async () => {
    const { code, report } = await load([
      "--target",
      cluster.listenAddress,
      "--call",
      "lbdemo.v1.Echo/EchoStream",
      "-n",
      "30",
    ]);
    assert.equal(code, 0);
    assert.equal(report.call, "stream");
    // A stream whose replies came from two servers would be counted as DATA_LOSS.
    assert.deepEqual(report.statuses, { OK: 30 });
    assert.deepEqual(Object.values(report.backends), [10, 10, 10]);
  });

  it("client-side round robin over the lab's DNS spreads calls without Envoy", async () => {
    const before = await downstreamConnections(cluster);
    const dns = formatHostPort(cluster.dns.host, cluster.dns.port);
    const target = `dns:///server:${serverPort(cluster)}`;
    const rr = await load(["--target", target, "--dns-server", dns, "--lb", "round_robin", "-n", "60"]);
    assert.equal(rr.code, 0, rr.stderr);
    assert.equal(rr.report.target, `dns://${dns}/server:${serverPort(cluster)}`);
    // The first calls may go out while some subchannels still connect: near 20 each, not exactly.
    const counts = Object.values(rr.report.backends);
    assert.equal(counts.length, 3);
    for (const n of counts) assert.ok(n >= 15 && n <= 25, `round robin split ${counts.join("/")}`);
    const servers = cluster.servers().map((s) => formatHostPort(s.host, s.port));
    assert.deepEqual(Object.values(rr.report.backendAddresses).sort(), [...servers].sort());

    const pf = await load([
      ...["--target", target, "--dns-server", dns, "--lb", "pick_first", "-n", "30"],
      ...["--expect-backends", "3"],
    ]);
    assert.equal(pf.code, 3, "pick_first sends everything to one server");
    assert.deepEqual(Object.values(pf.report.backends), [30]);
    assert.match(
      pf.stderr,
      /^grpc-lb: load: balance: 1 backend answered, expected 3 \(--expect-backends\)$/m,
    );
    assert.equal(await downstreamConnections(cluster), before, "no call went through Envoy");
  });
});

describe("grpc-lb load through the ClusterIP stand-in (L4)", () => {
  let cluster: LabCluster;
  before(async () => {
    cluster = await startLabCluster(resolveLabOptions({ servers: 3, topology: "clusterip" }));
  });
  after(async () => {
    await cluster?.stop();
  });

  it("misses the balance gate: exit 3 with a one-line reason", async () => {
    const run = spawnCli([
      ...["load", "--target", cluster.listenAddress, "-n", "60", "-c", "4"],
      ...["--expect-backends", "3", "--max-imbalance", "5"],
    ]);
    assert.equal((await run.exit).code, 3, run.stderr());
    const reasons = run
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("grpc-lb:"));
    assert.deepEqual(reasons, ["grpc-lb: load: balance: 1 backend answered, expected 3 (--expect-backends)"]);
    assert.match(run.lines.join("\n"), /1 backend answered 60 of 60 requests: 60/);
  });

  it("pins each client connection to one backend, which the report shows per connection", async () => {
    const { code, report } = await load([
      ...[
        "--target",
        formatHostPort(DEFAULT_VIRTUAL_IP, serverPort(cluster)),
        "-n",
        "60",
        "-c",
        "6",
        "--connections",
        "6",
      ],
    ]);
    assert.equal(code, 0);
    assert.equal(report.connectionStats.length, 6);
    for (const c of report.connectionStats)
      assert.equal(Object.keys(c.backends).length, 1, `connection ${c.slot} reached one backend only`);
    const landed = new Set(report.connectionStats.flatMap((c) => Object.keys(c.backends)));
    assert.ok(landed.size >= 2, `6 connections through the L4 balancer landed on ${landed.size} backend(s)`);
  });
});
