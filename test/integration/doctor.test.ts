import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { main } from "../../src/cli/main.js";
import { type DoctorReport, runDoctor } from "../../src/doctor/doctor.js";
import type { Json } from "../../src/doctor/envoy-view.js";
import { fixYaml } from "../../src/doctor/finding.js";
import { healthCaller } from "../../src/doctor/live.js";
import { EnvoyAdmin } from "../../src/envoy/admin.js";
import { findEnvoy } from "../../src/envoy/binary.js";
import { startEnvoy } from "../../src/envoy/process.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { labEnvoyBootstrap } from "../../src/lab/lab-envoy.js";
import { LAB_HEALTH_CHECK } from "../../src/lab/lab-envoy-options.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { applyFix, type DoctorFixture, FIXTURES, seedMinimal, withFixtureEnvoy } from "../doctor-fixtures.js";
import { captureContext } from "../helpers.js";

const envoyBinary = findEnvoy().path;
/** An address on the lab's loopback range that no server listens on. */
const NOBODY = "127.77.0.250";
// A fixture's Envoy settles within one DNS answer and one health-check round; a wide margin.
const SETTLE_MS = 10 * (LAB_HEALTH_CHECK.intervalMs + LAB_HEALTH_CHECK.timeoutMs) + 5000;

let lab: LabCluster;
let servers: string[];
let workRoot: string;

before(async () => {
  lab = await startLabCluster(resolveLabOptions({ servers: 3 }));
  servers = lab.servers().map((s) => s.host);
  lab.dns.setRecords("one", servers.slice(0, 1));
  lab.dns.setRecords("empty", []);
  lab.dns.setRecords("partial", [...servers.slice(0, 2), NOBODY]);
  workRoot = await mkdtemp(join(tmpdir(), "grpc-lb-doctor-test-"));
});
after(async () => {
  await lab?.stop();
  if (workRoot) await rm(workRoot, { recursive: true, force: true });
});

const labBootstrap = (): Json =>
  structuredClone(labEnvoyBootstrap(lab.options, lab.dns, lab.servers()[0]?.port ?? 0)) as unknown as Json;

/** Runs one Envoy on `bootstrap`, waits until cluster 'server' settles on `hosts` hosts, runs doctor on it. */
function doctorOn(name: string, bootstrap: Json, hosts: number, live: boolean): Promise<DoctorReport> {
  return withFixtureEnvoy(
    {
      binary: envoyBinary,
      root: workRoot,
      name,
      bootstrap,
      settleMs: SETTLE_MS,
      settled: (c) =>
        c !== undefined &&
        c.hosts.length === hosts &&
        c.hosts.every((h) => !h.failed.includes("pending_active_hc")),
    },
    (envoy) => {
      const listener = `127.0.0.1:${envoy.listenerPort}`;
      return runDoctor({
        admin: envoy.admin,
        live: live ? { listener, caller: healthCaller(listener), deadlineMs: 2000 } : undefined,
      });
    },
  );
}

const checksOf = (r: DoctorReport): string[] => r.findings.map((f) => f.check);

describe("doctor: every check fires on its bad fixture and not once its fix is in, on a real Envoy", {
  concurrency: 3,
}, () => {
  for (const fixture of FIXTURES) {
    it(fixture.check, async () => {
      const bad = labBootstrap();
      fixture.bad(bad, servers);
      const report = await doctorOn(
        `${fixture.check}-bad`,
        bad,
        fixture.badHosts ?? 3,
        fixture.live === true,
      );
      const finding = report.findings.find((f) => f.check === fixture.check);
      assert.ok(finding, `${fixture.check} did not fire; findings: ${checksOf(report).join(", ")}`);
      assert.equal(finding.severity, fixture.severity);
      assert.ok(finding.evidence.value.length > 0 && finding.docs.startsWith("https://www.envoyproxy.io/"));

      const good = goodOf(fixture, bad, finding);
      const fixed = await doctorOn(`${fixture.check}-good`, good, 3, fixture.live === true);
      assert.ok(
        !checksOf(fixed).includes(fixture.check),
        `${fixture.check} still fires after the fix: ${JSON.stringify(fixed.findings.find((f) => f.check === fixture.check))}`,
      );
      if (fixture.live) assert.equal(fixed.live?.ok, fixed.live?.calls);
    });
  }
});

/** The good configuration: the bad one with the printed fix (parsed back from its YAML) merged in. */
function goodOf(fixture: DoctorFixture, bad: Json, finding: DoctorReport["findings"][number]): Json {
  if (fixture.good !== undefined) {
    const good = labBootstrap();
    fixture.good(good);
    return good;
  }
  assert.ok(finding.fix, `${fixture.check} prints no fix`);
  const good = structuredClone(bad);
  applyFix(good, finding.fix.target, parse(fixYaml(finding.fix)) as Json);
  return good;
}

describe("doctor on the project's own configuration and the seed's minimal one", () => {
  it("the lab: no error, and the live split is exact", async () => {
    const report = await runDoctor({
      admin: lab.envoy.admin,
      live: {
        listener: lab.listenAddress,
        caller: healthCaller(lab.listenAddress),
        requests: 30,
        deadlineMs: 2000,
      },
    });
    assert.equal(report.counts.error, 0, JSON.stringify(report.findings));
    assert.deepEqual(Object.values(report.live?.hosts ?? {}).sort(), [10, 10, 10]);
  });

  it("the seed's minimal configuration gets the findings it deserves", async () => {
    const report = await doctorOn("seed-minimal", seedMinimal(labBootstrap()), 3, true);
    assert.deepEqual(checksOf(report).sort(), [
      "no-health-check",
      "no-max-connection-duration",
      "no-retry",
      "route-timeout",
    ]);
    assert.equal(report.routesGuessed, true);
    assert.deepEqual(Object.values(report.live?.hosts ?? {}).sort(), [10, 10, 10]);
  });
});

describe("grpc-lb doctor: exit status and errors", () => {
  const run = async (args: string[]) => {
    const c = captureContext();
    const code = await main(["doctor", ...args], c.ctx);
    return { code, out: c.stdout(), err: c.stderr() };
  };

  it("0 against the lab, with the split from Envoy's counters", async () => {
    const r = await run(["--admin", `http://${lab.envoy.adminAddress}`, "--listener", lab.listenAddress]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /live: 30 grpc\.health\.v1\.Health\/Check calls .*: 30 ok/);
    assert.match(r.out, /result: 0 errors/);
  });

  it("--call any method, found by reflection through the listener; a method nobody serves is exit 2", async () => {
    const r = await run([
      "--admin",
      lab.envoy.adminAddress,
      "--listener",
      lab.listenAddress,
      "--call",
      "lbdemo.v1.Echo/Echo",
      "-d",
      '{"message":"doctor"}',
      "--json",
    ]);
    assert.equal(r.code, 0, r.err + r.out);
    const report = JSON.parse(r.out) as DoctorReport;
    assert.equal(report.live?.method, "lbdemo.v1.Echo/Echo");
    assert.deepEqual(Object.values(report.live?.hosts ?? {}), [10, 10, 10]);

    const missing = await run([
      "--admin",
      lab.envoy.adminAddress,
      "--listener",
      lab.listenAddress,
      "--call",
      "nope.v1.Nothing/Call",
    ]);
    assert.equal(missing.code, 2, missing.err);
    assert.match(missing.err, /--call nope\.v1\.Nothing\/Call: /);
  });

  it("json: the report object", async () => {
    const r = await run(["--admin", lab.envoy.adminAddress, "--json"]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as DoctorReport;
    assert.deepEqual(report.clusters, ["server"]);
    assert.equal(report.counts.error, 0);
  });

  it("2 when nothing answers, or when what answers is not Envoy", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const none = await run(["--admin", `127.0.0.1:${port}`]);
    assert.equal(none.code, 2);
    assert.match(none.err, /no Envoy admin API answers at http:\/\/127\.0\.0\.1:\d+/);

    const web = createServer((_req, res) => res.end("hello"));
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    try {
      const other = await run(["--admin", `127.0.0.1:${(web.address() as AddressInfo).port}`]);
      assert.equal(other.code, 2);
      assert.match(other.err, /is not Envoy's admin API/);
    } finally {
      await new Promise<void>((r) => web.close(() => r()));
    }
  });

  it("2 for bad usage: no --admin, an unknown cluster, live flags without --listener", async () => {
    assert.equal((await run([])).code, 2);
    const unknown = await run(["--admin", lab.envoy.adminAddress, "--cluster", "nope"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /no cluster 'nope' in this Envoy \(it has: server\)/);
    const stray = await run(["--admin", lab.envoy.adminAddress, "-n", "5"]);
    assert.equal(stray.code, 2);
    assert.match(stray.err, /add --listener/);
  });

  it("1 when a finding is an error", async () => {
    const admin = new EnvoyAdmin(lab.envoy.adminAddress);
    assert.ok(await admin.live());
    const bad = labBootstrap();
    (((bad.admin as Json).address as Json).socket_address as Json).address = "0.0.0.0";
    const workDir = await mkdtemp(join(workRoot, "exit-1-"));
    const envoy = await startEnvoy({
      binary: envoyBinary,
      bootstrap: bad as never,
      workDir,
      concurrency: 1,
      logLevel: "error",
      startTimeoutMs: 15_000,
      name: "exit-1",
    });
    try {
      const r = await run(["--admin", envoy.adminAddress.replace("0.0.0.0", "127.0.0.1")]);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /ERROR {3}admin-exposed {2}admin/);
    } finally {
      await envoy.stop();
    }
  });
});
