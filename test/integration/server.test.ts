import assert from "node:assert/strict";
import { connect } from "node:http2";
import { createServer } from "node:net";
import { after, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { ECHO_SERVICE_NAME } from "../../src/proto/echo-package.js";
import { reachableHost, startEchoServer } from "../../src/server/server.js";
import { echo, echoClient, healthCheck, reflectionServices } from "../grpc-clients.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

const readyOf = (line: string) =>
  JSON.parse(line) as {
    event: string;
    id: string;
    address: string;
    port: number;
    metricsPort: number;
    pid: number;
  };

/** One sample of a Prometheus text exposition, by metric name and labels; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && want.every((w) => l.slice(0, l.lastIndexOf("}")).includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("grpc-lb serve (a real process)", () => {
  it("prints a ready line, answers with its id, serves health and reflection, exits 0 on SIGTERM", async () => {
    const run = spawnCli([
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--id",
      "11111111-2222-4333-8444-555555555555",
      "--metrics-port",
      "0",
    ]);
    const ready = readyOf(await run.line((l) => l.includes('"ready"')));
    assert.equal(ready.id, "11111111-2222-4333-8444-555555555555");
    assert.ok(ready.port > 0);
    assert.equal(ready.address, `127.0.0.1:${ready.port}`);

    const client = echoClient(ready.address);
    const reply = await echo(client, "ping");
    client.close();
    assert.equal(reply.message, "ping");
    assert.equal(reply.server_id, ready.id);
    assert.equal(reply.address, ready.address);
    assert.ok(reply.hostname.length > 0);

    assert.equal(await healthCheck(ready.address), "SERVING");
    assert.equal(await healthCheck(ready.address, ECHO_SERVICE_NAME), "SERVING");
    const services = await reflectionServices(ready.address);
    for (const s of [ECHO_SERVICE_NAME, "grpc.health.v1.Health"])
      assert.ok(services.includes(s), `${s} in ${services}`);

    run.child.kill("SIGTERM");
    assert.deepEqual(await run.exit, { code: 0, signal: null });
    assert.match(run.lines.at(-1) ?? "", /"event":"stopped".*"outcome":"drained"/);
  });

  it("names the address when it is already in use, and exits 1", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const run = spawnCli(["serve", "--port", String(port), "--metrics-port", "0"]);
    assert.equal((await run.exit).code, 1);
    assert.match(run.stderr(), new RegExp(`cannot bind 127\\.0\\.0\\.1:${port}: address already in use`));
  });

  it("serves Prometheus metrics: calls by method and status, and their latency", async () => {
    const run = spawnCli([
      "serve",
      "--port",
      "0",
      "--metrics-port",
      "0",
      "--fail-rate",
      "1",
      "--fail-code",
      "INTERNAL",
    ]);
    const ready = readyOf(await run.line((l) => l.includes('"ready"')));
    assert.ok(ready.metricsPort > 0);
    const client = echoClient(ready.address);
    for (let i = 0; i < 3; i++) await assert.rejects(echo(client), { code: status.INTERNAL });
    client.close();
    assert.equal(await healthCheck(ready.address), "SERVING");
    const res = await fetch(`http://127.0.0.1:${ready.metricsPort}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    const echoLabels = { grpc_service: "lbdemo.v1.Echo", grpc_method: "Echo" };
    assert.equal(sample(text, "grpc_server_handled_total", { ...echoLabels, grpc_code: "INTERNAL" }), 3);
    assert.equal(sample(text, "grpc_server_handled_total", { grpc_method: "Check", grpc_code: "OK" }), 1);
    assert.equal(sample(text, "grpc_server_handling_seconds_count", echoLabels), 3);
    assert.equal(sample(text, "grpc_server_handling_seconds_bucket", { ...echoLabels, le: "+Inf" }), 3);
    assert.equal((await fetch(`http://127.0.0.1:${ready.metricsPort}/other`)).status, 404);
    run.child.kill("SIGTERM");
    assert.equal((await run.exit).code, 0);
  });

  it("on a wildcard address, puts where it really is in replies, not 0.0.0.0", async () => {
    const run = spawnCli(["serve", "--host", "0.0.0.0", "--port", "0", "--metrics-port", "0"]);
    const ready = readyOf(await run.line((l) => l.includes('"ready"')));
    const host = reachableHost("0.0.0.0");
    assert.notEqual(host, "0.0.0.0");
    assert.equal(ready.address, `${host}:${ready.port}`);
    const client = echoClient(`127.0.0.1:${ready.port}`);
    const reply = await echo(client);
    client.close();
    assert.equal(reply.address, ready.address);
    run.child.kill("SIGINT");
    assert.equal((await run.exit).code, 130, "Ctrl-C");
  });

  it("exits 2 on a bad flag", async () => {
    const run = spawnCli(["serve", "--bogus"]);
    assert.equal((await run.exit).code, 2);
    assert.match(run.stderr(), /unknown option --bogus/);
  });
});

describe("Echo server (in process)", () => {
  it("finishes an in-flight stream during a graceful stop and refuses new calls", async () => {
    const server = await startEchoServer({ port: 0, graceMs: 10_000 });
    const client = echoClient(server.address);
    try {
      const got: number[] = [];
      const stream = client.EchoStream({ message: "s", count: 5, interval_ms: 40 });
      const ended = new Promise<void>((resolve, reject) => {
        stream.on("data", (r: { sequence: number }) => got.push(r.sequence));
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      await new Promise<void>((resolve) => stream.once("data", () => resolve()));
      const stopped = server.stop();
      assert.equal(
        await healthCheck(server.address).catch((e: { code: number }) => e.code),
        status.UNAVAILABLE,
      );
      await ended;
      assert.deepEqual(got, [0, 1, 2, 3, 4]);
      assert.equal(await stopped, "drained");
    } finally {
      client.close();
    }
  });

  it("cuts calls off when the grace period runs out", async () => {
    const server = await startEchoServer({ port: 0, graceMs: 50 });
    const client = echoClient(server.address);
    try {
      const stream = client.EchoStream({ message: "s", count: 1000, interval_ms: 100 });
      const failed = new Promise<number>((resolve) => {
        stream.on("data", () => {});
        stream.on("error", (e: { code: number }) => resolve(e.code));
        stream.on("end", () => resolve(-1));
      });
      await new Promise<void>((resolve) => stream.once("data", () => resolve()));
      assert.equal(await server.stop(), "forced");
      assert.notEqual(await failed, -1);
    } finally {
      client.close();
    }
  });

  it("injects faults only when asked: UNAVAILABLE at fail rate 1, a reply delay, and neither by default", async () => {
    const failing = await startEchoServer({ port: 0, failRate: 1 });
    const slow = await startEchoServer({ port: 0, delayMs: 150 });
    const plain = await startEchoServer({ port: 0 });
    const clients = [failing, slow, plain].map((s) => echoClient(s.address));
    const [toFailing, toSlow, toPlain] = clients;
    try {
      assert.ok(toFailing && toSlow && toPlain);
      const err = await echo(toFailing).then(
        () => undefined,
        (e: { code: number; details: string }) => e,
      );
      assert.equal(err?.code, status.UNAVAILABLE);
      assert.match(err?.details ?? "", /injected failure/);
      const t0 = performance.now();
      assert.equal((await echo(toSlow, "late")).message, "late");
      assert.ok(performance.now() - t0 >= 140, "the reply waited for the injected delay");
      for (let i = 0; i < 20; i++) assert.equal((await echo(toPlain, `n${i}`)).message, `n${i}`);
    } finally {
      for (const c of clients) c.close();
      await Promise.all([failing.stop(), slow.stop(), plain.stop()]);
    }
  });

  it("closes connections older than --max-connection-age-ms with GOAWAY, so clients re-balance", async () => {
    const server = await startEchoServer({ port: 0, maxConnectionAgeMs: 200, graceMs: 1000 });
    const session = connect(`http://${server.address}`);
    try {
      const opened = performance.now();
      const goaway = new Promise<number>((resolve, reject) => {
        session.once("goaway", () => resolve(performance.now() - opened));
        session.once("error", reject);
        setTimeout(() => reject(new Error("no GOAWAY within 5 s")), 5000).unref();
      });
      const ageMs = await goaway;
      // grpc-js adds up to ±10% jitter to the age.
      assert.ok(ageMs >= 150, `GOAWAY after ${Math.round(ageMs)} ms, before the age was reached`);
    } finally {
      session.destroy();
      await server.stop();
    }
  });

  it("rejects oversized requests with RESOURCE_EXHAUSTED and stream limits with INVALID_ARGUMENT", async () => {
    const server = await startEchoServer({ port: 0, maxMessageBytes: 1024, maxStreamReplies: 10 });
    const client = echoClient(server.address);
    try {
      const big = await echo(client, "x".repeat(4096)).catch((e: { code: number }) => e.code);
      assert.equal(big, status.RESOURCE_EXHAUSTED);
      assert.equal((await echo(client, "still fine")).message, "still fine");
      const code = await new Promise<number>((resolve) => {
        const s = client.EchoStream({ message: "s", count: 11, interval_ms: 0 });
        s.on("data", () => {});
        s.on("error", (e: { code: number }) => resolve(e.code));
        s.on("end", () => resolve(-1));
      });
      assert.equal(code, status.INVALID_ARGUMENT);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
