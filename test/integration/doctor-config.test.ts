import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { main } from "../../src/cli/main.js";
import type { DnsServerHandle } from "../../src/dns/server.js";
import type { DoctorReport } from "../../src/doctor/doctor.js";
import type { Json } from "../../src/doctor/envoy-view.js";
import { fixYaml } from "../../src/doctor/finding.js";
import { labEnvoyBootstrap } from "../../src/lab/lab-envoy.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { packageRoot } from "../../src/paths.js";
import { applyFix, FIXTURES } from "../doctor-fixtures.js";
import { captureContext } from "../helpers.js";

const COMPOSE_CONFIG = join(packageRoot, "deploy", "compose", "envoy.yaml");
const K8S_CONFIGMAP = join(packageRoot, "deploy", "k8s", "base", "envoy-configmap.yaml");
/** Checks that judge hosts or live calls: --config judges neither. */
const NEEDS_HOSTS = new Set(["no-hosts", "one-host", "hosts-unhealthy", "live-unreached", "live-imbalance"]);

let dir: string;
let base: Json;
/** The lab's own configuration, the base of every fixture (as on a running Envoy in doctor.test.ts). */
const labBase = (): Json =>
  structuredClone(
    labEnvoyBootstrap(
      resolveLabOptions({ servers: 3 }),
      { host: "127.0.0.1", port: 53 } as DnsServerHandle,
      50051,
    ),
  ) as unknown as Json;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "grpc-lb-doctor-config-test-"));
  base = parse(await readFile(COMPOSE_CONFIG, "utf8")) as Json;
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const run = async (args: string[]) => {
  const c = captureContext();
  const code = await main(["doctor", ...args], c.ctx);
  return { code, out: c.stdout(), err: c.stderr() };
};
let n = 0;
const write = async (b: unknown, ext = "yaml"): Promise<string> => {
  const path = join(dir, `config-${n++}.${ext}`);
  await writeFile(path, ext === "json" ? JSON.stringify(b) : stringify(b));
  return path;
};
const reportOf = async (path: string, extra: string[] = []) => {
  const r = await run(["--config", path, "--json", ...extra]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.err}`);
  return { code: r.code, report: JSON.parse(r.out) as DoctorReport };
};

describe("grpc-lb doctor --config: a bootstrap checked in a throwaway Envoy, before it is deployed", () => {
  it("the Compose config: exit 0, its one cluster checked, the name that does not resolve here said as such", async () => {
    const r = await run(["--config", COMPOSE_CONFIG]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /^doctor: Envoy \d+\.\d+\.\d+, config .*compose\/envoy\.yaml$/m);
    assert.match(r.out, /checked: cluster server \(1 gRPC route\)/);
    assert.match(r.out, /note: names that do not resolve here, as expected offline: server \(server\)/);
    assert.doesNotMatch(r.out, /no-hosts/, "an unresolved name is not a broken cluster");
  });

  it("the Kubernetes ConfigMap: the bootstrap in its data, exit 0", async () => {
    const r = await run(["--config", K8S_CONFIGMAP, "--fail-on", "info"]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /config .*envoy-configmap\.yaml \(ConfigMap envoy, key envoy\.yaml\)/);
  });

  it("--fail-on gates on warnings and infos; JSON input too", async () => {
    const b = structuredClone(base);
    delete (((b.static_resources as Json).clusters as Json[])[0] as Json).health_checks;
    const path = await write(b, "json");
    assert.equal((await run(["--config", path])).code, 0);
    assert.equal((await run(["--config", path, "--fail-on", "warning"])).code, 1);
    const info = await run(["--config", COMPOSE_CONFIG, "--fail-on", "info"]);
    assert.equal(info.code, 1, "the Compose config has one info");
    assert.match(info.out, /→ exit 1 \(--fail-on info\)/);
  });

  describe("each check that needs no host fires offline on its bad fixture, and not once its fix is in", {
    concurrency: 2,
  }, () => {
    for (const fixture of FIXTURES.filter((f) => !NEEDS_HOSTS.has(f.check)))
      it(fixture.check, async () => {
        const bad = labBase();
        fixture.bad(bad, []);
        const { code, report } = await reportOf(await write(bad));
        const finding = report.findings.find((f) => f.check === fixture.check);
        if (fixture.severity === "error") assert.equal(code, 1, "an error finding is exit 1");
        assert.ok(
          finding,
          `${fixture.check} did not fire: ${report.findings.map((f) => f.check).join(", ")}`,
        );
        assert.equal(finding.severity, fixture.severity);
        const good = fixture.good === undefined ? structuredClone(bad) : labBase();
        if (fixture.good === undefined) {
          assert.ok(finding.fix, "a fix is printed");
          applyFix(good, finding.fix.target, parse(fixYaml(finding.fix)) as Json);
        }
        const fixed = await reportOf(await write(good));
        assert.ok(!fixed.report.findings.some((f) => f.check === fixture.check), "the fix clears it");
      });
  });

  it("a configuration Envoy refuses: Envoy's own message, exit 2, nothing left behind", async () => {
    const before = (await readdir(tmpdir())).filter(
      (d) => d.startsWith("grpc-lb-doctor-") && !d.includes("test"),
    );
    const b = structuredClone(base);
    (((b.static_resources as Json).clusters as Json[])[0] as Json).lb_policy = "NO_SUCH_POLICY";
    const r = await run(["--config", await write(b)]);
    assert.equal(r.code, 2);
    assert.match(r.err, /Envoy refused .*config-\d+\.yaml \(exited with code 1\): .*NO_SUCH_POLICY/);
    const left = (await readdir(tmpdir())).filter(
      (d) => d.startsWith("grpc-lb-doctor-") && !d.includes("test"),
    );
    assert.deepEqual(left.sort(), before.sort(), "the throwaway's work directory is removed");
  });

  it("bad usage is exit 2 with one line", async () => {
    const cases: [string[], RegExp][] = [
      [[], /give --admin URL .* or --config FILE/],
      [["--config", COMPOSE_CONFIG, "--admin", "127.0.0.1:9901"], /one of them/],
      [["--config", COMPOSE_CONFIG, "--listener", "127.0.0.1:10000"], /--listener .* use it with --admin/],
      [["--admin", "127.0.0.1:9901", "--config-key", "x"], /--config-key goes with --config/],
      [["--config", COMPOSE_CONFIG, "--fail-on", "fatal"], /--fail-on must be one of error, warning, info/],
      [["--config", join(dir, "nope.yaml")], /cannot read --config .*nope\.yaml: ENOENT/],
      [["--config", K8S_CONFIGMAP, "--config-key", "nope"], /has no ConfigMap key 'nope'/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.err, message);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
    }
    const notYaml = join(dir, "not-yaml.yaml");
    await writeFile(notYaml, "a: [\n");
    assert.match((await run(["--config", notYaml])).err, /is not YAML or JSON/);
    const notEnvoy = await write({ apiVersion: "v1", kind: "Service", metadata: { name: "x" } });
    assert.match((await run(["--config", notEnvoy])).err, /holds no Envoy bootstrap/);
    const two = await write({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "two" },
      data: { "a.yaml": stringify(base), "b.yaml": stringify(base) },
    });
    const twoKeys = await run(["--config", two]);
    assert.equal(twoKeys.code, 2);
    assert.match(
      twoKeys.err,
      /holds 2 Envoy bootstraps \(keys a\.yaml, b\.yaml\); pick one with --config-key/,
    );
    assert.equal((await run(["--config", two, "--config-key", "b.yaml"])).code, 0);
  });
});
