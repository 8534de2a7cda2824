import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { tlsTrusting } from "../../src/grpc/client-tls.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { type EngineKind, type EngineOptions, startLoad } from "../../src/loadgen/engine.js";
import type { LoadReport } from "../../src/loadgen/report.js";
import { formatHostPort } from "../../src/util/address.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

/** The same run on both engines. */
async function both(o: Omit<EngineOptions, "engine">): Promise<Record<EngineKind, LoadReport>> {
  const on = (engine: EngineKind): Promise<LoadReport> => startLoad({ ...o, engine }).done;
  return { h2: await on("h2"), "grpc-js": await on("grpc-js") };
}

/** What both engines' reports must agree on (the split among backends varies from run to run). */
const shapeOf = (r: LoadReport) => ({
  requests: r.requests,
  statuses: r.statuses,
  backends: Object.keys(r.backends).sort(),
  addresses: r.backendAddresses,
  method: r.method,
  call: r.call,
  attribution: r.attribution,
  connections: r.connectionStats.map((c) => [c.slot, c.generation, c.calls]),
});

describe("both engines, one report: through a real Envoy over TLS and to mTLS servers", () => {
  let lab: LabCluster;
  let ids: string[];
  before(async () => {
    lab = await startLabCluster(resolveLabOptions({ servers: 3, tls: "mtls" }));
    ids = lab
      .servers()
      .map((s) => s.id)
      .sort();
  });
  after(() => lab?.stop());

  const through = (o: Partial<EngineOptions>): Omit<EngineOptions, "engine"> => ({
    target: lab.listenAddress,
    tls: lab.clientTls,
    connections: 4,
    concurrency: 8,
    requests: 240,
    ...o,
  });

  it("unary Echo through Envoy: every server answered, the same counts", async () => {
    const r = await both(through({}));
    assert.deepEqual(shapeOf(r.h2), shapeOf(r["grpc-js"]));
    assert.deepEqual(shapeOf(r.h2).backends, ids);
    assert.deepEqual(r.h2.requests, { total: 240, ok: 240, failed: 0 });
  });

  it("server-streaming Echo through Envoy, with churn and a hash key header", async () => {
    const r = await both(
      through({
        call: { kind: "stream", message: "hi", replies: 3 },
        newConnectionEvery: 20,
        hashKey: { header: "x-hash-key", space: 4 },
        requests: 120,
      }),
    );
    assert.deepEqual(shapeOf(r.h2), shapeOf(r["grpc-js"]));
    assert.equal(r.h2.requests.ok, 120);
    assert.equal(r.h2.connectionStats.length, 8, "each of 4 slots replaced once after 20 calls");
  });

  it("any method through Envoy: who answered is the peer, Envoy's listener", async () => {
    const r = await both(
      through({
        call: {
          kind: "method",
          method: { path: "/grpc.health.v1.Health/Check", requestStream: false, responseStream: false },
          encoded: [new Uint8Array()],
        },
      }),
    );
    assert.deepEqual(shapeOf(r.h2), shapeOf(r["grpc-js"]));
    assert.deepEqual(Object.keys(r.h2.backends), [lab.listenAddress]);
  });

  it("one server directly over mTLS (--cert/--key/--cname): all its answers", async () => {
    const server = lab.servers()[0];
    assert.ok(server && lab.tls);
    const r = await both({
      target: formatHostPort(server.host, server.port),
      tls: tlsTrusting(lab.tls.caFile, { serverName: "localhost", client: lab.tls.envoyClient }),
      connections: 2,
      concurrency: 4,
      requests: 100,
    });
    assert.deepEqual(shapeOf(r.h2), shapeOf(r["grpc-js"]));
    assert.deepEqual(r.h2.backends, { [server.id]: 100 });
  });

  it("the h2 engine gives up at once on a TLS refusal, naming it, as it does on a name mismatch", async () => {
    const server = lab.servers()[0];
    assert.ok(server && lab.tls);
    const target = formatHostPort(server.host, server.port);
    // A budget no run reaches: a refusal must end the wait, not the budget.
    const connectTimeoutMs = 60_000;
    const refused = (tls: EngineOptions["tls"]) =>
      startLoad({ engine: "h2", target, tls, requests: 1, connectTimeoutMs }).done;
    await assert.rejects(refused(tlsTrusting(lab.tls.caFile, { serverName: "localhost" })), (e: Error) =>
      /over TLS \(h2 engine: tlsv13 alert certificate required\)/.test(e.message),
    );
    await assert.rejects(
      refused(tlsTrusting(lab.tls.caFile, { serverName: "elsewhere", client: lab.tls.envoyClient })),
      (e: Error) =>
        /cannot connect to \S+ over mTLS \(h2 engine: Host: elsewhere\. is not in the cert's altnames/.test(
          e.message,
        ),
    );
  });

  it("grpc-lb load picks h2 for HOST:PORT and takes the TLS flags", async () => {
    const run = spawnCli([
      ...["load", "--target", lab.listenAddress, "--cacert", lab.tls?.caFile ?? "", "--cname", "localhost"],
      ...["-n", "60", "-c", "4", "--connections", "2", "--json"],
    ]);
    const { code } = await run.exit;
    assert.equal(code, 0, run.stderr());
    assert.match(run.stderr(), /\(h2 engine\)/);
    const report = JSON.parse(run.lines.join("\n")) as LoadReport;
    assert.deepEqual(report.requests, { total: 60, ok: 60, failed: 0 });
    assert.deepEqual(Object.keys(report.backends).sort(), ids);
  });
});
