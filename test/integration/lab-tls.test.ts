import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { echoChannel } from "../../src/grpc/channel.js";
import { type ClientTls, tlsTrusting } from "../../src/grpc/client-tls.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { packageRoot } from "../../src/paths.js";
import { waitFor } from "../../src/util/wait.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

/** One Echo call straight to `address`, as `tls` says: OK or the status and details it failed with. */
function echoOnce(address: string, tls: ClientTls): Promise<{ code: number; details: string }> {
  const client = echoChannel(address, { tls, ownConnection: true });
  return new Promise((resolve) =>
    client.echo({ message: "tls" }, { deadline: Date.now() + 5000 }, (err) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: "" });
    }),
  );
}

/** The grpcio the Makefile's test-tools target installs, or why it is not there. */
function grpcioDir(): { dir: string } | { skip: string } {
  const version = /^GRPCIO_VERSION\s*:=\s*(\S+)/m.exec(
    readFileSync(join(packageRoot, "Makefile"), "utf8"),
  )?.[1];
  const dir = join(packageRoot, ".tools", `python-grpcio-${version}`);
  return existsSync(join(dir, "grpc"))
    ? { dir }
    : { skip: `Python grpcio ${version} is not in ${dir}: run make test-tools (pip install from PyPI)` };
}

describe("the lab over TLS", () => {
  it("grpc-lb lab --tls --mtls --requests 100 splits 33/33/34 through a real Envoy", async () => {
    const run = spawnCli(["lab", "--tls", "--mtls", "--requests", "100"]);
    const { code } = await run.exit;
    assert.equal(code, 0, run.stderr());
    const out = run.lines.join("\n");
    assert.match(out, /^3 backends answered 100 of 100 requests: 33\/33\/34$/m);
    assert.match(out, /agree with the client's replies per server/);
    assert.match(
      run.stderr(),
      /lab: tls {5}mTLS \(servers require Envoy's client certificate\) on both legs/,
    );
  });

  it("--mtls alone is a usage error", async () => {
    const run = spawnCli(["lab", "--mtls"]);
    assert.equal((await run.exit).code, 2);
    assert.match(run.stderr(), /^grpc-lb: lab: --mtls needs --tls$/m);
  });
});

describe("a running lab with mTLS to the servers", () => {
  let lab: LabCluster;
  before(async () => {
    lab = await startLabCluster(resolveLabOptions({ tls: "mtls" }));
  });
  after(() => lab?.stop());

  it("health checks over TLS keep every host healthy: no panic routing", async () => {
    const admin = lab.envoy.admin;
    const stat = async (name: string): Promise<number> => (await admin.stat(`cluster.server.${name}`)) ?? 0;
    const first = await stat("health_check.success");
    // Three more rounds of checks on every host, each one a new look at the TLS path.
    await waitFor(
      "nine more successful health checks",
      async () => ((await stat("health_check.success")) >= first + 9 ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const report = await echoLoad(lab, 30);
    assert.equal(report.failed, 0);
    assert.equal(await stat("health_check.failure"), 0);
    assert.equal(await stat("health_check.network_failure"), 0);
    assert.equal(await stat("lb_healthy_panic"), 0, "no request was routed in panic mode");
    const hosts = await lab.hosts();
    assert.equal(hosts.length, 3);
    assert.ok(
      hosts.every((h) => h.healthy),
      JSON.stringify(hosts),
    );
    assert.ok((await stat("ssl.handshake")) >= 3, "Envoy spoke TLS to the servers");
  });

  it("refuses a client without Envoy's certificate at every server, and lets one with it in", async () => {
    const servers = lab.servers();
    assert.equal(servers.length, 3);
    const tls = lab.tls;
    assert.ok(tls);
    for (const s of servers) {
      const address = `${s.host}:${s.port}`;
      const without = await echoOnce(address, tlsTrusting(tls.caFile, { serverName: "localhost" }));
      assert.equal(without.code, status.UNAVAILABLE, `${address}: ${without.details}`);
      assert.match(without.details, /certificate required/, address);
      const withCert = await echoOnce(
        address,
        tlsTrusting(tls.caFile, { serverName: "localhost", client: tls.envoyClient }),
      );
      assert.equal(withCert.code, status.OK, `${address}: ${withCert.details}`);
    }
  });

  it("doctor's live calls speak TLS with the same flags: the split with --cacert, live-failed without", async () => {
    const ca = lab.tls?.caFile ?? "";
    const base = ["doctor", "--admin", lab.envoy.adminAddress, "--listener", lab.listenAddress, "--json"];
    const ok = spawnCli([...base, "--cacert", ca, "--cname", "localhost"]);
    assert.equal((await ok.exit).code, 0, ok.stderr());
    const report = JSON.parse(ok.lines.join("\n")) as {
      counts: { error: number };
      live?: { hosts: Record<string, number> };
    };
    assert.equal(report.counts.error, 0, ok.lines.join("\n"));
    assert.deepEqual(Object.values(report.live?.hosts ?? {}), [10, 10, 10]);
    const plain = spawnCli([...base, "--deadline-ms", "500", "-n", "3"]);
    assert.equal((await plain.exit).code, 1);
    assert.match(plain.lines.join("\n"), /"check":"live-failed"/);
    const stray = spawnCli(["doctor", "--admin", lab.envoy.adminAddress, "--cacert", ca]);
    assert.equal((await stray.exit).code, 2);
    assert.match(stray.stderr(), /--cacert is for live calls: add --listener HOST:PORT/);
  });

  it("load --cacert works through Envoy's TLS listener; plaintext load fails saying why", async () => {
    const ca = lab.tls?.caFile ?? "";
    const ok = spawnCli([
      "load",
      "--target",
      lab.listenAddress,
      "-n",
      "30",
      "--cacert",
      ca,
      "--cname",
      "localhost",
    ]);
    assert.equal((await ok.exit).code, 0, ok.stderr());
    assert.match(ok.lines.join("\n"), /^3 backends answered 30 of 30 requests: 10\/10\/10$/m);
    const plain = spawnCli([
      "load",
      "--target",
      lab.listenAddress,
      "-n",
      "3",
      "--connect-timeout-ms",
      "1000",
    ]);
    assert.equal((await plain.exit).code, 1);
    assert.match(
      plain.stderr(),
      /^grpc-lb: load: cannot connect to 127\.0\.0\.1:\d+ within 1000 ms over plaintext \((?:channel \w+|h2 engine: [^)]+)\); if the target speaks TLS, give --cacert FILE \(or --skipTLS\)$/m,
    );
    const skip = spawnCli(["load", "--target", lab.listenAddress, "-n", "3", "--skipTLS", "--workers", "1"]);
    assert.equal((await skip.exit).code, 0, skip.stderr());
  });

  it("Python grpcio, which insists on ALPN, gets every call through Envoy's TLS listener", async (t) => {
    const grpcio = grpcioDir();
    if ("skip" in grpcio) {
      t.skip(grpcio.skip);
      return;
    }
    const script = join(packageRoot, "test", "python", "grpcio_health_client.py");
    const { stdout, code } = await new Promise<{ stdout: string; code: number }>((resolve) =>
      execFile(
        "python3",
        [script, lab.listenAddress, lab.tls?.caFile ?? "", "localhost", "60"],
        { env: { ...process.env, PYTHONPATH: grpcio.dir }, timeout: 60_000 },
        (err, out, errText) => resolve({ stdout: `${out}${errText}`, code: err ? Number(err.code ?? 1) : 0 }),
      ),
    );
    assert.equal(code, 0, stdout);
    const result = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { ok: number; failed: number };
    assert.deepEqual({ ok: result.ok, failed: result.failed }, { ok: 60, failed: 0 }, stdout);
  });
});

/** Echo calls through the lab's listener over its TLS. */
async function echoLoad(lab: LabCluster, calls: number): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  for (let i = 0; i < calls; i++)
    if ((await echoOnce(lab.listenAddress, lab.clientTls)).code === status.OK) ok++;
  return { ok, failed: calls - ok };
}
