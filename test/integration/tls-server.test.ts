import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as connectH2 } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as connectTls } from "node:tls";
import { type ChannelCredentials, credentials, status } from "@grpc/grpc-js";
import type { WrittenSet } from "../../src/tls/cert-set.js";
import { tlsHandshake } from "../../src/tls/probe.js";
import { waitFor } from "../../src/util/wait.js";
import { echo, echoClient, healthCheck } from "../grpc-clients.js";
import { type CliRun, killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

const scratch = mkdtempSync(join(tmpdir(), "grpc-lb-tls-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const setDir = join(scratch, "set");
const otherSetDir = join(scratch, "other");
const file = (name: string, dir = setDir): string => join(dir, "current", name);
const pem = (name: string, dir = setDir): Buffer => readFileSync(file(name, dir));

interface Ready {
  id: string;
  address: string;
  port: number;
  tls: string;
  certSerial?: string;
}

async function certs(...args: string[]): Promise<WrittenSet> {
  const run = spawnCli(["certs", ...args, "--json"]);
  assert.equal((await run.exit).code, 0, run.stderr());
  return JSON.parse(run.lines.join("\n")) as WrittenSet;
}

async function serve(...tlsArgs: string[]): Promise<{ run: CliRun; ready: Ready }> {
  const run = spawnCli(["serve", "--port", "0", "--metrics-port", "0", ...tlsArgs]);
  const ready = JSON.parse(await run.line((l) => l.includes('"ready"'))) as Ready;
  return { run, ready };
}

async function stop(run: CliRun): Promise<void> {
  run.child.kill("SIGTERM");
  assert.deepEqual(await run.exit, { code: 0, signal: null }, run.stderr());
}

const trustingSet = (): ChannelCredentials => credentials.createSsl(pem("ca.crt"));
const asEnvoy = (dir = setDir): ChannelCredentials =>
  credentials.createSsl(pem("ca.crt"), pem("envoy-client.key", dir), pem("envoy-client.crt", dir));

/** The status of one Echo call, OK included. */
async function echoStatus(target: string, creds: ChannelCredentials, options = {}): Promise<number> {
  const client = echoClient(target, creds, options);
  try {
    await echo(client, "hi", 5000);
    return status.OK;
  } catch (e) {
    return (e as { code: number }).code;
  } finally {
    client.close();
  }
}

/**
 * grpc.health.v1.Health/Check as Envoy's health checker sends it: an HTTP/2
 * session over a TLS connection offering exactly `alpn`. Resolves with the
 * response message bytes; rejects when the server drops the connection.
 */
function envoyStyleHealthCheck(port: number, alpn: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const session = connectH2(`https://127.0.0.1:${port}`, {
      createConnection: () => connectTls({ host: "127.0.0.1", port, ALPNProtocols: alpn, ca: pem("ca.crt") }),
    });
    session.on("error", reject);
    session.on("close", () => reject(new Error("the server closed the connection")));
    const req = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", reject);
    req.on("end", () => {
      resolve(Buffer.concat(chunks));
      session.close();
    });
    req.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

before(async () => {
  const created = await certs("--out", setDir, "--servers", "1");
  const other = await certs("--out", otherSetDir, "--servers", "1");
  assert.equal(created.manifest.version, 1);
  assert.equal(other.manifest.version, 1);
});

describe("grpc-lb serve --tls-cert (real processes on loopback)", () => {
  it("answers a TLS client once ready, under its own name and the shared one, and refuses plaintext", async () => {
    const { run, ready } = await serve("--tls-cert", file("server-1.crt"), "--tls-key", file("server-1.key"));
    assert.equal(ready.tls, "tls");
    assert.equal(ready.certSerial, (await tlsHandshake({ host: "127.0.0.1", port: ready.port })).serial);
    assert.equal(await echoStatus(ready.address, trustingSet()), status.OK);
    assert.equal(await healthCheck(ready.address, "", trustingSet()), "SERVING");
    const as = (name: string) => ({ "grpc.ssl_target_name_override": name, "grpc.default_authority": name });
    assert.equal(
      await echoStatus(ready.address, trustingSet(), as("server")),
      status.OK,
      "STRICT_DNS's shared name",
    );
    assert.equal(await echoStatus(ready.address, trustingSet(), as("server-1")), status.OK, "its own name");
    assert.equal(
      await echoStatus(ready.address, trustingSet(), as("server-2")),
      status.UNAVAILABLE,
      "not its name",
    );
    assert.equal(await echoStatus(ready.address, credentials.createInsecure()), status.UNAVAILABLE);
    await stop(run);
  });

  it("takes a health check offering ALPN h2, as Envoy's must, and drops one offering no ALPN", async () => {
    const { run, ready } = await serve("--tls-cert", file("server-1.crt"), "--tls-key", file("server-1.key"));
    const shown = await tlsHandshake({ host: "127.0.0.1", port: ready.port, ca: pem("ca.crt") });
    assert.equal(shown.alpnProtocol, "h2");
    assert.equal(shown.authorized, true, shown.authorizationError);
    // A HealthCheckResponse{status: SERVING} in one gRPC frame.
    assert.deepEqual([...(await envoyStyleHealthCheck(ready.port, ["h2"]))], [0, 0, 0, 0, 2, 0x08, 0x01]);
    await assert.rejects(envoyStyleHealthCheck(ready.port, []));
    await stop(run);
  });

  it("under --client-ca lets in only clients with a certificate from that CA", async () => {
    const { run, ready } = await serve(
      "--tls-cert",
      file("server-1.crt"),
      "--tls-key",
      file("server-1.key"),
      "--client-ca",
      file("ca.crt"),
    );
    assert.equal(ready.tls, "mtls");
    const noCert = echoClient(ready.address, trustingSet());
    await assert.rejects(echo(noCert), (e: { code: number; details: string }) => {
      assert.equal(e.code, status.UNAVAILABLE);
      assert.match(e.details, /certificate required/);
      return true;
    });
    noCert.close();
    assert.equal(
      await echoStatus(ready.address, asEnvoy(otherSetDir)),
      status.UNAVAILABLE,
      "another CA's client",
    );
    assert.equal(await echoStatus(ready.address, asEnvoy()), status.OK, "Envoy's client certificate");
    assert.equal(await healthCheck(ready.address, "", asEnvoy()), "SERVING");
    await stop(run);
  });

  it("rotates its certificate under a stream of calls without losing one", async (t) => {
    const { run, ready } = await serve(
      "--tls-cert",
      file("server-1.crt"),
      "--tls-key",
      file("server-1.key"),
      "--tls-reload-ms",
      "100",
    );
    const before = ready.certSerial;
    const long = { ok: 0, failed: [] as string[] };
    const fresh = { ok: 0, failed: [] as string[] };
    const done = new AbortController();
    const client = echoClient(ready.address, trustingSet());
    const record = async (tally: typeof long, call: () => Promise<unknown>) => {
      try {
        await call();
        tally.ok += 1;
      } catch (e) {
        tally.failed.push(String((e as Error).message));
      }
    };
    // Four calls in flight on one long-lived channel, and one new channel (a new handshake) per call.
    const loops = [
      ...Array.from({ length: 4 }, async () => {
        while (!done.signal.aborted) await record(long, () => echo(client));
      }),
      (async () => {
        while (!done.signal.aborted) {
          const c = echoClient(ready.address, trustingSet());
          await record(fresh, () => echo(c));
          c.close();
        }
      })(),
    ];
    const atLeast = (what: string, n: () => number, min: number) =>
      waitFor(
        what,
        () => (n() >= min ? true : undefined),
        { timeoutMs: 30_000 },
        () => `${n()}`,
      );
    try {
      await atLeast("calls before the rotation", () => Math.min(long.ok, fresh.ok * 10), 100);
      const rotated = await certs("--out", setDir, "--rotate", "leaves", "--only", "server-1");
      const after = rotated.manifest.leaves.find((l) => l.name === "server-1")?.serial;
      assert.ok(after && after !== before);
      await run.line((l) => l.includes('"tls-reloaded"') && l.includes(after));
      await waitFor(
        "the handshake to show the new serial",
        async () =>
          (await tlsHandshake({ host: "127.0.0.1", port: ready.port })).serial === after ? true : undefined,
        { timeoutMs: 10_000 },
      );
      const [longAt, freshAt] = [long.ok, fresh.ok];
      await atLeast("calls on the long-lived channel after it", () => long.ok - longAt, 200);
      await atLeast("new-connection calls after it", () => fresh.ok - freshAt, 20);
      t.diagnostic(
        `rotation in ${rotated.elapsedMs} ms; long-lived channel ${long.ok} calls, ${long.failed.length} failed; ` +
          `new channel per call ${fresh.ok} calls, ${fresh.failed.length} failed; serial ${before} -> ${after}`,
      );
    } finally {
      done.abort();
      await Promise.all(loops);
      client.close();
    }
    assert.deepEqual(long.failed, []);
    assert.deepEqual(fresh.failed, []);
    assert.ok(!run.lines.some((l) => l.includes("tls-reload-failed")), run.lines.join("\n"));
    await stop(run);
  });
});

describe("grpc-lb serve with bad TLS input", () => {
  const cases: [string, string[], number, RegExp][] = [
    [
      "a missing certificate",
      ["--tls-cert", join(scratch, "nope.crt"), "--tls-key", file("server-1.key")],
      1,
      /^grpc-lb: tls: cannot read the certificate .*nope\.crt: no such file\n$/,
    ],
    [
      "a key of another certificate",
      ["--tls-cert", file("server-1.crt"), "--tls-key", file("envoy-client.key")],
      1,
      /^grpc-lb: tls: .*envoy-client\.key is not the key of .*server-1\.crt \(serial [0-9A-F]+\)\n$/,
    ],
    [
      "a certificate without its key",
      ["--tls-cert", file("server-1.crt")],
      2,
      /--tls-cert and --tls-key go together/,
    ],
    [
      "a client CA without TLS",
      ["--client-ca", file("ca.crt")],
      2,
      /--client-ca needs --tls-cert and --tls-key/,
    ],
  ];
  for (const [name, args, code, message] of cases) {
    it(`exits ${code} on ${name}, with one line`, async () => {
      const run = spawnCli(["serve", "--port", "0", "--metrics-port", "0", ...args]);
      assert.equal((await run.exit).code, code);
      assert.match(run.stderr(), message);
      assert.equal(run.lines.length, 0, "no ready line");
    });
  }
});
