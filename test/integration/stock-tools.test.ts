import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { grpcurlBin, runTool } from "../deploy-tools.js";

// grpcurl knows nothing of lbdemo.v1: everything it does here it learns from
// server reflection, through Envoy, as a user with stock tools would.
describe("grpcurl through Envoy, with no .proto file", () => {
  let cluster: LabCluster;
  before(async () => {
    cluster = await startLabCluster(resolveLabOptions({ servers: 2 }));
  });
  after(() => cluster.stop());
  const grpcurl = (...args: string[]) => runTool(grpcurlBin(), ["-plaintext", ...args]);

  it("lists the services by reflection", async () => {
    const run = await grpcurl(cluster.listenAddress, "list");
    assert.equal(run.code, 0, run.stderr);
    const services = run.stdout.trim().split("\n");
    for (const s of ["lbdemo.v1.Echo", "grpc.health.v1.Health"])
      assert.ok(services.includes(s), services.join(", "));
  });

  it("describes the Echo methods", async () => {
    const run = await grpcurl(cluster.listenAddress, "describe", "lbdemo.v1.Echo");
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /rpc Echo \( \.lbdemo\.v1\.EchoRequest \) returns \( \.lbdemo\.v1\.EchoReply \)/,
    );
    assert.match(
      run.stdout,
      /rpc EchoStream \( \.lbdemo\.v1\.EchoStreamRequest \) returns \( stream \.lbdemo\.v1\.EchoReply \)/,
    );
  });

  it("calls Echo and gets an answer from one of the lab's servers", async () => {
    const run = await grpcurl(
      "-d",
      '{"message":"from grpcurl"}',
      cluster.listenAddress,
      "lbdemo.v1.Echo/Echo",
    );
    assert.equal(run.code, 0, run.stderr);
    // Field names as the proto spells them: reflection built by proto-loader carries no JSON names.
    const reply = JSON.parse(run.stdout) as { message: string; server_id: string };
    assert.equal(reply.message, "from grpcurl");
    assert.ok(
      cluster.servers().some((s) => s.id === reply.server_id),
      `unknown server ${reply.server_id}`,
    );
  });

  it("reads the health of the service", async () => {
    const run = await grpcurl(
      "-d",
      '{"service":"lbdemo.v1.Echo"}',
      cluster.listenAddress,
      "grpc.health.v1.Health/Check",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { status: "SERVING" });
  });

  it("streams every reply of EchoStream from one server", async () => {
    const run = await grpcurl(
      "-d",
      '{"message":"s","count":3}',
      cluster.listenAddress,
      "lbdemo.v1.Echo/EchoStream",
    );
    assert.equal(run.code, 0, run.stderr);
    // grpcurl prints one JSON object per message, separated by blank lines.
    const replies = run.stdout
      .trim()
      .split(/\n(?=\{)/)
      .map((t) => JSON.parse(t) as { server_id: string; sequence?: number });
    assert.equal(replies.length, 3);
    assert.equal(new Set(replies.map((r) => r.server_id)).size, 1, "one stream, one server");
    assert.deepEqual(
      replies.map((r) => r.sequence ?? 0),
      [0, 1, 2],
    );
  });
});
