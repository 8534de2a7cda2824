import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import type { LoadReport } from "../../src/loadgen/report.js";
import { protoDir } from "../../src/paths.js";
import { formatHostPort } from "../../src/util/address.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

const HEALTH_CHECK = "grpc.health.v1.Health/Check";

/** Runs `grpc-lb load ARGS`: its exit code, stdout and stderr. */
async function load(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = spawnCli(["load", ...args]);
  const { code } = await run.exit;
  return { code, stdout: run.lines.join("\n"), stderr: run.stderr() };
}

/** Runs `grpc-lb load ARGS --json`, which must exit 0, and returns its report. */
async function loadJson(args: string[]): Promise<LoadReport> {
  const { code, stdout, stderr } = await load([...args, "--json"]);
  assert.equal(code, 0, `exit ${code}; stderr:\n${stderr}`);
  return JSON.parse(stdout) as LoadReport;
}

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

describe("grpc-lb load of any method through the lab", () => {
  let cluster: LabCluster;
  let admin: string;
  let servers: string[];
  before(async () => {
    cluster = await startLabCluster(resolveLabOptions({ servers: 3 }));
    admin = cluster.envoy.adminAddress;
    servers = cluster
      .servers()
      .map((s) => formatHostPort(s.host, s.port))
      .sort();
  });
  after(async () => {
    await cluster?.stop();
  });

  it("counts Health/Check calls per upstream host by Envoy's counters", async () => {
    const report = await loadJson([
      ...["--target", cluster.listenAddress, "--call", HEALTH_CHECK],
      ...["--envoy-admin", admin, "-n", "60", "--expect-backends", "3"],
    ]);
    assert.equal(report.attribution, "envoy-counters");
    assert.equal(report.method, "/grpc.health.v1.Health/Check");
    assert.deepEqual(report.requests, { total: 60, ok: 60, failed: 0 });
    assert.deepEqual(Object.keys(report.backends).sort(), servers);
    assert.equal(sum(report.backends), 60);
    assert.ok(report.perBackend.every((b) => b.latencyMs === null));
    assert.deepEqual(report.envoyCounters?.clusters, ["server"]);
    assert.equal(report.envoyCounters?.counted, 60);
  });

  it("says in the text report how it knew, without inventing latency per backend", async () => {
    const { code, stdout, stderr } = await load([
      ...["--target", cluster.listenAddress, "--call", HEALTH_CHECK],
      ...["--envoy-admin", `http://${admin}/`, "--envoy-cluster", "server", "-n", "30"],
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^who answered: Envoy's rq_success per upstream host of cluster server/m);
    for (const s of servers)
      assert.match(stdout, new RegExp(`^  ${s.replaceAll(".", "\\.")} .* 10 .*-\\s+-\\s+█+$`, "m"));
  });

  it("describes a method the same by reflection and by --proto", async () => {
    const common = ["--target", cluster.listenAddress, "--envoy-admin", admin, "-n", "30"];
    const byReflection = await loadJson([...common, "--call", HEALTH_CHECK, "-d", '{"service":""}']);
    const byProto = await loadJson([
      ...common,
      ...["--call", "grpc.health.v1.Health.Check", "-d", '{"service":""}'],
      ...["--proto", "grpc/health/v1/health.proto", "-i", protoDir],
    ]);
    assert.equal(byReflection.method, byProto.method);
    assert.deepEqual(byReflection.statuses, { OK: 30 });
    assert.deepEqual(byProto.statuses, { OK: 30 });
    // One connection, so one Envoy worker's round robin: 10 calls each, both times.
    assert.deepEqual(byReflection.backends, byProto.backends);
    assert.deepEqual(Object.values(byProto.backends), [10, 10, 10]);
  });

  it("attributes by peer with client-side round robin over the lab's DNS", async () => {
    const dns = formatHostPort(cluster.dns.host, cluster.dns.port);
    const [first] = cluster.servers();
    const report = await loadJson([
      ...["--target", `dns:///server:${first?.port}`, "--dns-server", dns, "--lb", "round_robin"],
      ...["--call", HEALTH_CHECK, "-n", "60"],
    ]);
    assert.equal(report.attribution, "peer");
    assert.deepEqual(Object.keys(report.backends).sort(), servers);
    assert.equal(sum(report.backends), 60);
    // The first calls may go out while some subchannels still connect: near 20 each, not exactly.
    for (const n of Object.values(report.backends))
      assert.ok(n >= 15 && n <= 25, JSON.stringify(report.backends));
    assert.ok(report.perBackend.every((b) => b.latencyMs !== null && b.latencyMs.p50 > 0));
  });

  it("through Envoy, the peer is Envoy, and the report says so", async () => {
    const { code, stdout } = await load([
      "--target",
      cluster.listenAddress,
      "--call",
      HEALTH_CHECK,
      "-n",
      "10",
    ]);
    assert.equal(code, 0);
    assert.match(stdout, /through a proxy, such as Envoy, the peer is the proxy/);
    assert.match(stdout, /^1 backend answered 10 of 10 requests: 10$/m);
  });

  const usageCases: [string, string[], RegExp][] = [
    [
      "the old --call stream",
      ["--call", "stream"],
      /--call takes a method now.*--call lbdemo\.v1\.Echo\/EchoStream/,
    ],
    ["the old --call unary", ["--call", "unary"], /--call lbdemo\.v1\.Echo\/Echo \(was --call unary\)/],
    [
      "an unknown method",
      ["--call", "grpc.health.v1.Health/Nope"],
      /has no method Nope; its methods: Check, Watch/,
    ],
    [
      "an unknown service",
      ["--call", "no.Such/Thing"],
      /does not know service no\.Such.*it serves .*grpc\.health\.v1\.Health/,
    ],
    ["-d that is not JSON", ["--call", HEALTH_CHECK, "-d", "{service"], /-d must be JSON/],
    [
      "-d of the wrong type",
      ["--call", HEALTH_CHECK, "-d", '{"service":5}'],
      /-d: .*\.service must be a string, got 5/,
    ],
    [
      "-d with an unknown field",
      ["--call", HEALTH_CHECK, "-d", '{"svc":""}'],
      /-d: .*no field 'svc'; the fields are service/,
    ],
    [
      "--stream-replies with another method",
      ["--call", HEALTH_CHECK, "--stream-replies", "3"],
      /--stream-replies is for/,
    ],
  ];
  for (const [what, args, message] of usageCases)
    it(`exits 2 with one line for ${what}`, async () => {
      const { code, stderr } = await load(["--target", cluster.listenAddress, "-n", "1", ...args]);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /^grpc-lb: load: /);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
    });

  it("exits 2 when Envoy has no such cluster", async () => {
    const { code, stderr } = await load([
      ...["--target", cluster.listenAddress, "--call", HEALTH_CHECK, "-n", "1"],
      ...["--envoy-admin", admin, "--envoy-cluster", "nope"],
    ]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /has no cluster 'nope'; its clusters: server/);
  });
});

const TALLY_PROTO = `syntax = "proto3";
package labtest.v1;
service Tally {
  rpc Sum(stream Num) returns (Total);
  rpc Echoes(stream Num) returns (stream Num);
}
message Num { int64 n = 1; }
message Total { int64 sum = 1; }
`;

interface Num {
  n: string;
}

/** A server of a client-streaming and a bidi method, with reflection, that records what each call sent. */
async function startTallyServer(protoFile: string) {
  const definition = loadSync(protoFile, { longs: String });
  const pkg = loadPackageDefinition(definition) as unknown as {
    labtest: { v1: { Tally: { service: Parameters<Server["addService"]>[0] } } };
  };
  const calls: string[][] = [];
  const server = new Server();
  server.addService(pkg.labtest.v1.Tally.service, {
    Sum(call: ServerReadableStream<Num, { sum: string }>, callback: sendUnaryData<{ sum: string }>) {
      const got: string[] = [];
      call.on("data", (m: Num) => got.push(m.n));
      call.on("end", () => {
        calls.push(got);
        callback(null, { sum: String(got.reduce((a, n) => a + Number(n), 0)) });
      });
    },
    Echoes(call: ServerDuplexStream<Num, Num>) {
      const got: string[] = [];
      call.on("data", (m: Num) => {
        got.push(m.n);
        call.write(m);
      });
      call.on("end", () => {
        calls.push(got);
        call.end();
      });
    },
  });
  new ReflectionService(definition).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { calls, address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

describe("grpc-lb load of streaming methods", () => {
  let dir: string;
  let proto: string;
  let server: Awaited<ReturnType<typeof startTallyServer>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grpc-lb-tally-"));
    proto = join(dir, "tally.proto");
    await writeFile(proto, TALLY_PROTO);
    server = await startTallyServer(proto);
  });
  after(async () => {
    server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("client streaming by --proto: sends each element of -d, half-closes, counts by status", async () => {
    const report = await loadJson([
      ...["--target", server.address, "--call", "labtest.v1.Tally/Sum", "--proto", proto],
      ...["-d", '[{"n":1},{"n":"2"},{"n":3}]', "-n", "5", "-c", "2"],
    ]);
    assert.equal(report.call, "client-stream");
    assert.equal(report.attribution, "peer");
    assert.deepEqual(report.backends, { [server.address]: 5 });
    assert.deepEqual(server.calls.splice(0), Array(5).fill(["1", "2", "3"]));
  });

  it("bidi streaming by reflection", async () => {
    const report = await loadJson([
      ...["--target", server.address, "--call", "labtest.v1.Tally.Echoes"],
      ...["-d", '[{"n":7},{"n":8}]', "-n", "4"],
    ]);
    assert.equal(report.call, "bidi-stream");
    assert.deepEqual(report.statuses, { OK: 4 });
    assert.deepEqual(server.calls.splice(0), Array(4).fill(["7", "8"]));
  });

  it("exits 2 when the server serves no reflection and no --proto is given", async () => {
    const bare = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      bare.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    try {
      const { code, stderr } = await load([
        "--target",
        `127.0.0.1:${port}`,
        "--call",
        "labtest.v1.Tally/Sum",
      ]);
      assert.equal(code, 2, stderr);
      assert.match(
        stderr,
        /does not serve reflection \(grpc\.reflection\.v1 or v1alpha\): name the method's \.proto files with --proto/,
      );
    } finally {
      bare.forceShutdown();
    }
  });

  it("exits 1 when the target cannot be reached for reflection", async () => {
    const { code, stderr } = await load([
      ...["--target", "127.0.0.1:1", "--call", "labtest.v1.Tally/Sum", "--connect-timeout-ms", "500"],
    ]);
    assert.equal(code, 1, stderr);
    assert.match(
      stderr,
      /^grpc-lb: grpc: cannot ask 127\.0\.0\.1:1 for service labtest\.v1\.Tally by reflection: UNAVAILABLE/,
    );
  });
});
