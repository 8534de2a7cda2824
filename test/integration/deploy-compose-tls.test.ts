import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { composeTlsPreset } from "../../src/deploy/presets.js";
import { composeTlsOf, ENVOY_CERTS_MOUNT, SERVER_LEAF } from "../../src/engines/compose/tls.js";
import { packageRoot } from "../../src/paths.js";
import { ENVOY_CLIENT, ENVOY_LISTENER, planLeaves, resolveCertsOptions } from "../../src/tls/plan.js";
import { composeSpecBin, type Manifest, runTool } from "../deploy-tools.js";

const DIR = join(packageRoot, "deploy", "compose");
const FILES = ["compose.yaml", "compose.tls.yaml"];
const GID = "4242";

/**
 * The pair as `docker compose -f compose.yaml -f compose.tls.yaml` merges and interpolates it
 * (`config` reads files only: no engine needed). compose-spec, which checks compose.yaml,
 * takes no variables, and this file needs CERTS_GID.
 */
async function merged(
  env: Record<string, string>,
): Promise<{ code: number; model: Manifest; stderr: string }> {
  const args = [
    "compose",
    ...FILES.flatMap((f) => ["-f", f]),
    "--profile",
    "client",
    "config",
    "--format",
    "json",
  ];
  const run = await runTool("docker", args, DIR, env);
  return { code: run.code, model: run.code === 0 ? JSON.parse(run.stdout) : {}, stderr: run.stderr };
}

function composeMissing(): string | false {
  const r = spawnSync("docker", ["compose", "version"], { encoding: "utf8" });
  return r.status === 0 ? false : "needs the docker CLI with Compose v2 (docker compose config; no engine)";
}

const mounts = (service: Manifest): [string, string, string, boolean][] =>
  service.volumes.map((v: Manifest) => [v.type, v.source, v.target, v.read_only]);

/** Every `filename:` and `path:` an Envoy YAML names. */
const pathsIn = (text: string): string[] =>
  [...text.matchAll(/^\s*(?:filename|path): (\S+)$/gm)].map((m) => m[1] ?? "");

describe("deploy/compose/compose.tls.yaml", () => {
  it("passes the Compose Specification beside compose.yaml", async () => {
    const run = await runTool(composeSpecBin(), ["-no-interpolation", "-format", "json", ...FILES], DIR);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(Object.keys(JSON.parse(run.stdout).services).sort(), ["client", "envoy", "server"]);
  });
});

describe("deploy/compose/compose.tls.yaml over compose.yaml", { skip: composeMissing() }, () => {
  let model: Manifest = {};
  const certs = join(packageRoot, ".tools", "compose-certs");
  before(async () => {
    const r = await merged({ CERTS_GID: GID, CERTS_DIR: "", ENVOY_PORT: "" });
    assert.equal(r.code, 0, `compose-spec rejected the pair: ${r.stderr}`);
    model = r.model;
  });

  it("needs the keys' group, and says how to get it", async () => {
    const r = await merged({ CERTS_GID: "" });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /set CERTS_GID to the group of the keys/);
  });

  it("keeps compose.yaml's hardening and users", () => {
    for (const [name, s] of Object.entries<Manifest>(model.services)) {
      assert.equal(s.read_only, true, name);
      assert.deepEqual(s.cap_drop, ["ALL"], name);
      assert.equal(s.user ?? undefined, name === "envoy" ? "101:101" : undefined, name);
    }
  });

  it("runs Envoy on the compose-tls config and SDS files, with the set's directory mounted whole", async () => {
    const envoy = model.services.envoy;
    assert.deepEqual(mounts(envoy), [
      ["bind", join(packageRoot, composeTlsPreset.output.path), "/etc/envoy/envoy.yaml", true],
      ["bind", join(packageRoot, "deploy/envoy/hot-restarter.sh"), "/etc/envoy/hot-restarter.sh", true],
      ["bind", join(DIR, "tls", "sds"), "/etc/envoy/sds", true],
      ["bind", certs, ENVOY_CERTS_MOUNT, true],
    ]);
    assert.deepEqual(envoy.group_add, [GID]);
    // What Envoy reads is inside the mounts, under the set's `current` link, and names leaves the set has.
    const config = await readFile(join(packageRoot, composeTlsPreset.output.path), "utf8");
    const sdsFiles = pathsIn(config).filter((p) => p.startsWith("/etc/envoy/sds/"));
    assert.equal(sdsFiles.length, 3);
    const read = (
      await Promise.all(
        sdsFiles.map((p) => readFile(join(DIR, "tls", "sds", p.slice("/etc/envoy/sds/".length)), "utf8")),
      )
    ).flatMap(pathsIn);
    assert.deepEqual(
      read.filter((p) => p.includes("/current/")).sort(),
      [ENVOY_CLIENT, ENVOY_LISTENER]
        .flatMap((n) => [`${n}.crt`, `${n}.key`])
        .concat("ca.crt")
        .map((f) => `${ENVOY_CERTS_MOUNT}/current/${f}`)
        .sort(),
    );
  });

  it("runs mTLS servers on the shared certificate, which names what Envoy sends and checks", async () => {
    const server = model.services.server;
    assert.deepEqual(mounts(server), [["bind", certs, "/certs", true]]);
    assert.deepEqual(server.group_add, [GID]);
    const arg = (flag: string) => server.command[server.command.indexOf(flag) + 1];
    assert.equal(arg("--tls-cert"), `/certs/current/${SERVER_LEAF}.crt`);
    assert.equal(arg("--tls-key"), `/certs/current/${SERVER_LEAF}.key`);
    assert.equal(arg("--client-ca"), "/certs/current/ca.crt");
    assert.ok(server.command.includes("--drain-delay-ms"), "compose.yaml's drain is kept");
    // make compose-certs: --server-name server --shared-name server.
    const leaves = planLeaves(resolveCertsOptions({ serverNames: [SERVER_LEAF], sharedNames: ["server"] }));
    const config = await readFile(join(packageRoot, composeTlsPreset.output.path), "utf8");
    const sni = /^\s*sni: (\S+)$/m.exec(config)?.[1];
    const san = /^\s*exact: (\S+)$/m.exec(config)?.[1];
    const leaf = leaves.find((l) => l.name === SERVER_LEAF);
    for (const name of [sni, san])
      assert.ok(name && leaf?.dnsNames.includes(name), `${leaf?.dnsNames} has ${name}`);
    const listener = leaves.find((l) => l.name === ENVOY_LISTENER);
    // The client dials envoy:10000; the published port is 127.0.0.1.
    assert.ok(listener?.dnsNames.includes("envoy"));
    assert.ok(listener?.ipAddresses.includes("127.0.0.1"));
  });

  it("points the client at Envoy over TLS, trusting the set's current CAs, reading no key", () => {
    const client = model.services.client;
    assert.deepEqual(client.command.slice(0, 4), ["grpc-lb", "load", "--target", "envoy:10000"]);
    assert.equal(client.command[client.command.indexOf("--cacert") + 1], "/certs/current/ca.crt");
    assert.equal(client.group_add, undefined);
    assert.deepEqual(mounts(client), [["bind", certs, "/certs", true]]);
  });

  it("is found on a running Envoy by its mount, and the plaintext variant by its absence", () => {
    const envoy = {
      id: "e",
      name: "grpc-envoy-lb-envoy-1",
      service: "envoy",
      number: 1,
      state: "running" as const,
      ip: "172.18.0.5",
      aliases: [],
      startedAt: "",
      mounts: [{ source: "/x/certs", destination: ENVOY_CERTS_MOUNT }],
    };
    const tls = composeTlsOf(envoy);
    assert.equal(tls?.certsDir, "/x/certs");
    assert.equal(tls?.caFile, "/x/certs/current/ca.crt");
    assert.equal(tls?.client.kind, "tls");
    assert.equal(composeTlsOf({ ...envoy, mounts: [] }), undefined);
  });
});
