import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { composePreset, ENVOY_IMAGE, SERVER_IMAGE } from "../../src/deploy/presets.js";
import { PARENT_SHUTDOWN_MS } from "../../src/engines/compose/scenarios/envoy-reload.js";
import { engineBudgets } from "../../src/envoy/budgets.js";
import { resolveEnvoyConfigOptions } from "../../src/envoy/options.js";
import { packageRoot } from "../../src/paths.js";
import { resolveServerOptions } from "../../src/server/server.js";
import { composeSpecBin, type Manifest, runTool } from "../deploy-tools.js";

const COMPOSE_FILE = "deploy/compose/compose.yaml";

/**
 * compose-go loads the file as Docker Compose does (schema, interpolation, normalization) and prints
 * the model. It runs in the file's directory, which Docker Compose takes as the project directory
 * that relative paths (build context, bind mounts) start from.
 */
async function loadCompose(path: string): Promise<{ code: number; model: Manifest; stderr: string }> {
  const run = await runTool(composeSpecBin(), ["-format", "json", basename(path)], dirname(path));
  return { code: run.code, model: run.code === 0 ? JSON.parse(run.stdout) : {}, stderr: run.stderr };
}

describe(`${COMPOSE_FILE}`, () => {
  let model: Manifest = {};
  let tmp = "";
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "grpc-lb-compose-"));
    const loaded = await loadCompose(join(packageRoot, COMPOSE_FILE));
    assert.equal(loaded.code, 0, `compose-spec rejected ${COMPOSE_FILE}: ${loaded.stderr}`);
    model = loaded.model;
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("passes the Compose Specification, and the checker does reject a wrong key", async () => {
    assert.deepEqual(Object.keys(model.services).sort(), ["client", "envoy", "server"]);
    const text = await readFile(join(packageRoot, COMPOSE_FILE), "utf8");
    const broken = join(tmp, "compose.yaml");
    await writeFile(broken, text.replace("    deploy:\n      replicas: 3", "    replicas: 3"));
    const rejected = await loadCompose(broken);
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr, /replicas/);
  });

  it("names only services it defines in depends_on", () => {
    for (const [name, service] of Object.entries<Manifest>(model.services)) {
      for (const dep of Object.keys(service.depends_on ?? {}))
        assert.ok(dep in model.services, `${name} → ${dep}`);
    }
  });

  it("runs 3 server replicas, built from the Dockerfile, none published", () => {
    const server = model.services.server;
    assert.equal(server.deploy.replicas, 3);
    assert.equal(server.build.context, packageRoot.replace(/\/$/, ""));
    assert.equal(server.image, SERVER_IMAGE);
    assert.equal(server.ports, undefined);
    assert.deepEqual(server.command.slice(0, 6), [
      "grpc-lb",
      "serve",
      "--host",
      "0.0.0.0",
      "--port",
      "50051",
    ]);
  });

  it("drains a stopping server until Envoy's health checks have taken it out, within the stop grace", () => {
    const server = model.services.server;
    const flag = server.command.indexOf("--drain-delay-ms");
    const drainDelayMs = Number(server.command[flag + 1]);
    assert.ok(flag > 0 && Number.isInteger(drainDelayMs), `${server.command.join(" ")}`);
    // Serving on while Envoy still routes to it: no call lands on a server that refuses it.
    const { detectionMs } = engineBudgets(resolveEnvoyConfigOptions(composePreset.envoy));
    assert.ok(
      drainDelayMs >= detectionMs,
      `--drain-delay-ms ${drainDelayMs} < detection budget ${detectionMs}`,
    );
    // `docker compose stop`/`down` must give the drain delay and in-flight calls the whole grace.
    const stopMs = Number(/^(\d+)s$/.exec(server.stop_grace_period)?.[1]) * 1000;
    assert.ok(
      stopMs > drainDelayMs + resolveServerOptions().graceMs,
      `stop_grace_period ${server.stop_grace_period}`,
    );
  });

  it("lets a machine with no registry pick its images and a free port through variables, official by default", async () => {
    const raw = parse(await readFile(join(packageRoot, COMPOSE_FILE), "utf8"));
    assert.equal(raw.services.envoy.image, `\${ENVOY_IMAGE:-${ENVOY_IMAGE}}`);
    const dockerfile = await readFile(join(packageRoot, "Dockerfile"), "utf8");
    const nodeDefault = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    assert.equal(raw.services.server.build.args.NODE_IMAGE, `\${NODE_IMAGE:-${nodeDefault}}`);
    assert.equal(model.services.server.build.args.NODE_IMAGE, nodeDefault);
    assert.deepEqual(raw.services.envoy.ports, [
      `127.0.0.1:\${ENVOY_PORT:-10000}:${composePreset.envoy.listenPort}`,
    ]);
  });

  it("runs the pinned official Envoy with the generated config, read-only, listener on loopback only", () => {
    const envoy = model.services.envoy;
    assert.equal(envoy.image, ENVOY_IMAGE);
    assert.match(envoy.image, /^envoyproxy\/envoy:v1\.40\.\d+$/);
    assert.deepEqual(
      envoy.volumes.map((v: Manifest) => [v.type, v.source, v.target, v.read_only]),
      [
        ["bind", join(packageRoot, composePreset.output.path), "/etc/envoy/envoy.yaml", true],
        ["bind", join(packageRoot, "deploy/envoy/hot-restarter.sh"), "/etc/envoy/hot-restarter.sh", true],
      ],
    );
    // PID 1 is the hot restarter: it runs a copy of the mounted config from a tmpfs, where a
    // changed one can be written, and passes Envoy its drain and parent shutdown times.
    assert.deepEqual(envoy.entrypoint, ["/bin/bash", "/etc/envoy/hot-restarter.sh"]);
    assert.deepEqual(envoy.command.slice(0, 2), ["/etc/envoy/envoy.yaml", "/run/envoy"]);
    assert.match(JSON.stringify(envoy.tmpfs), /\/run\/envoy/);
    const arg = (flag: string) => envoy.command[envoy.command.indexOf(flag) + 1];
    assert.equal(arg("--drain-strategy"), "immediate");
    assert.ok(Number(arg("--parent-shutdown-time-s")) > Number(arg("--drain-time-s")));
    // compose scenario envoy-reload judges the old epoch's exit by this time.
    assert.equal(Number(arg("--parent-shutdown-time-s")) * 1000, PARENT_SHUTDOWN_MS);
    // Only the gRPC listener, only on 127.0.0.1; the admin API (9901) is never published.
    assert.deepEqual(
      envoy.ports.map((p: Manifest) => [p.host_ip, p.published, p.target]),
      [["127.0.0.1", "10000", composePreset.envoy.listenPort]],
    );
  });

  it("keeps the client out of `up` (profile) and points it at Envoy", () => {
    const client = model.services.client;
    assert.deepEqual(client.profiles, ["client"]);
    assert.deepEqual(client.command.slice(0, 4), ["grpc-lb", "load", "--target", "envoy:10000"]);
  });

  it("runs every service read-only, without capabilities or privilege escalation", () => {
    for (const [name, service] of Object.entries<Manifest>(model.services)) {
      assert.equal(service.read_only, true, name);
      assert.deepEqual(service.cap_drop, ["ALL"], name);
      assert.deepEqual(service.security_opt, ["no-new-privileges:true"], name);
    }
  });
});
