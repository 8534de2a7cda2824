import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import type { DnsServerHandle } from "../../src/dns/server.js";
import { type DoctorReport, runDoctor } from "../../src/doctor/doctor.js";
import type { Json } from "../../src/doctor/envoy-view.js";
import { type Finding, fixYaml } from "../../src/doctor/finding.js";
import { checkConfigFile } from "../../src/doctor/offline/throwaway.js";
import { findEnvoy } from "../../src/envoy/binary.js";
import { labEnvoyBootstrap } from "../../src/lab/lab-envoy.js";
import { LAB_HEALTH_CHECK } from "../../src/lab/lab-envoy-options.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { type EchoServerHandle, startEchoServer } from "../../src/server/server.js";
import { certFile, keyFile } from "../../src/tls/cert-set.js";
import { applyFix, clusterOf, withFixtureEnvoy } from "../doctor-fixtures.js";
import {
  clusterTls,
  type FixtureCerts,
  TLS_CONFIG_FIXTURES,
  withTls,
  writeFixtureCerts,
} from "../doctor-tls-fixtures.js";

const envoyBinary = findEnvoy().path;
const SETTLE_MS = 10 * (LAB_HEALTH_CHECK.intervalMs + LAB_HEALTH_CHECK.timeoutMs) + 5000;

let dir: string;
let certs: FixtureCerts;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "grpc-lb-doctor-tls-test-"));
  certs = await writeFixtureCerts(dir);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The lab's own configuration with TLS on both legs (its DNS and port stand-ins: --config resolves no name). */
const tlsBase = (): Json =>
  withTls(
    structuredClone(
      labEnvoyBootstrap(
        resolveLabOptions({ servers: 3 }),
        { host: "127.0.0.1", port: 53 } as DnsServerHandle,
        50051,
      ),
    ) as unknown as Json,
    certs,
  );

let n = 0;
async function checkOffline(b: Json): Promise<DoctorReport> {
  const path = join(dir, `config-${n++}.yaml`);
  await writeFile(path, stringify(b));
  return checkConfigFile({ path, envoyBinary });
}

const tlsFindings = (r: DoctorReport): string[] =>
  r.findings.filter((f) => f.check.startsWith("tls-")).map((f) => `${f.check} ${f.subject}`);

/** The bad configuration with the printed fix (parsed back from its YAML) merged in, and the files it names written. */
async function withFix(bad: Json, finding: Finding): Promise<Json> {
  assert.ok(finding.fix, `${finding.check} prints no fix`);
  const good = structuredClone(bad);
  applyFix(good, finding.fix.target, parse(fixYaml(finding.fix)) as Json);
  for (const file of finding.fix.files ?? []) await writeFile(file.path, stringify(file.content));
  return good;
}

describe("doctor's TLS checks: each fires on its bad fixture and not once its fix is in, on a real Envoy", () => {
  it("the lab's configuration with TLS done right gets no TLS finding", async () => {
    const r = await checkOffline(tlsBase());
    assert.deepEqual(tlsFindings(r), []);
    assert.ok(!r.notes.some((note) => note.includes("/certs")), "the throwaway Envoy's /certs is read");
  });

  describe("offline, in doctor --config's throwaway Envoy", { concurrency: 2 }, () => {
    for (const fixture of TLS_CONFIG_FIXTURES)
      it(fixture.check, async () => {
        const bad = tlsBase();
        fixture.bad(bad, certs);
        const report = await checkOffline(bad);
        const finding = report.findings.find((f) => f.check === fixture.check);
        assert.ok(
          finding,
          `${fixture.check} did not fire: ${report.findings.map((f) => f.check).join(", ")}`,
        );
        assert.equal(finding.severity, fixture.severity);
        assert.ok(finding.evidence.value.length > 0 && finding.docs.startsWith("https://www.envoyproxy.io/"));
        let good: Json;
        if (fixture.good === undefined) good = await withFix(bad, finding);
        else {
          good = tlsBase();
          fixture.good(good, certs);
        }
        const fixed = await checkOffline(good);
        assert.ok(
          !fixed.findings.some((f) => f.check === "tls-secret-not-loaded"),
          "the fixed configuration's secrets load",
        );
        assert.ok(
          !fixed.findings.some((f) => f.check === fixture.check),
          `${fixture.check} still fires: ${JSON.stringify(fixed.findings.find((f) => f.check === fixture.check))}`,
        );
      });
  });

  describe("live: TLS health checks failing behind panic routing", () => {
    let servers: EchoServerHandle[] = [];
    before(async () => {
      servers = await Promise.all(
        [1, 2, 3].map((i) =>
          startEchoServer({
            host: "127.0.0.1",
            port: 0,
            graceMs: 0,
            tls: {
              kind: "tls",
              certFile: join(certs.current, certFile(`server-${i}`)),
              keyFile: join(certs.current, keyFile(`server-${i}`)),
              reloadMs: 1000,
            },
          }),
        ),
      );
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.stop({ graceMs: 0 })));
    });

    /** The TLS base with a STATIC cluster of the three TLS servers. */
    const liveBase = (): Json => {
      const b = tlsBase();
      const c = clusterOf(b);
      delete c.cluster_type;
      delete c.ignore_health_on_host_removal;
      c.type = "STATIC";
      c.load_assignment = {
        cluster_name: "server",
        endpoints: [
          {
            lb_endpoints: servers.map((s) => ({
              endpoint: { address: { socket_address: { address: s.host, port_value: s.port } } },
            })),
          },
        ],
      };
      return b;
    };

    /** Runs Envoy on `b` until its three hosts' health flags are as `settled` says, then doctor on it. */
    const doctorLive = (name: string, b: Json, settled: (failed: string[][]) => boolean) =>
      withFixtureEnvoy(
        {
          binary: envoyBinary,
          root: dir,
          name,
          bootstrap: b,
          settleMs: SETTLE_MS,
          settled: (c) => c?.hosts.length === 3 && settled(c.hosts.map((h) => h.failed)),
        },
        (envoy) => runDoctor({ admin: envoy.admin }),
      );

    it("tls-health-panic: health checks without ALPN h2 fail on every host; the printed fix makes them pass", async () => {
      const bad = liveBase();
      delete (clusterTls(bad).common_tls_context as Json).alpn_protocols;
      const report = await doctorLive("tls-health-panic-bad", bad, (failed) =>
        failed.every((f) => f.includes("failed_active_health_check")),
      );
      const finding = report.findings.find((f) => f.check === "tls-health-panic");
      assert.ok(finding, `tls-health-panic did not fire: ${report.findings.map((f) => f.check).join(", ")}`);
      assert.equal(finding.severity, "error");
      assert.match(finding.evidence.value, /^3 of 3 hosts failed_active_health_check/);

      const good = await withFix(bad, finding);
      const fixed = await doctorLive("tls-health-panic-good", good, (failed) =>
        failed.every((f) => f.length === 0),
      );
      assert.ok(!fixed.findings.some((f) => f.check === "tls-health-panic"), JSON.stringify(fixed.findings));
      assert.deepEqual(tlsFindings(fixed), []);
    });
  });
});
