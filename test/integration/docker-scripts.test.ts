import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../src/paths.js";

const SCRIPTS = join(packageRoot, "scripts", "docker");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: packageRoot, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr });
    });
  });
}

// The provisioning scripts are programs: checked here without starting or installing anything.
describe("scripts/docker", () => {
  const scripts = readdirSync(SCRIPTS).filter((f) => f.endsWith(".sh") && f !== "lib.sh");

  it("are bash programs that stop at the first failure, and parse", async () => {
    assert.deepEqual(scripts.sort(), [
      "e2e.sh",
      "engine-down.sh",
      "engine-up.sh",
      "images.sh",
      "wait-envoy.sh",
    ]);
    for (const f of [...scripts, "lib.sh"]) {
      const text = readFileSync(join(SCRIPTS, f), "utf8");
      if (f !== "lib.sh") {
        assert.match(text, /^#!\/usr\/bin\/env bash\n/, f);
        assert.match(text, /^set -euo pipefail$/m, f);
      }
      const parsed = await run("bash", ["-n", join(SCRIPTS, f)]);
      assert.equal(parsed.code, 0, `${f}: ${parsed.stderr}`);
    }
  });

  it("docker-engine refuses to install anything on a machine not marked disposable", async () => {
    // No engine answers at that socket; neither CI=true nor GRPC_LB_ALLOW_INSTALL=1 is set.
    const r = await run(join(SCRIPTS, "engine-up.sh"), [], {
      ...process.env,
      CI: "",
      GRPC_LB_ALLOW_INSTALL: "",
      DOCKER_HOST: "unix:///nonexistent/grpc-lb-test.sock",
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /docker-engine: error: .*(CI=true|GRPC_LB_ALLOW_INSTALL=1)/);
    assert.doesNotMatch(r.stderr, /apt-get|install docker\.io \(/);
  });

  it("make passes the stand-in images and the port to Compose only when asked", async () => {
    const standin = await run("make", [
      "-n",
      "--no-print-directory",
      "docker-cluster",
      "IMAGES=standin",
      "ENVOY_PORT=10100",
    ]);
    assert.equal(standin.code, 0, standin.stderr);
    assert.match(
      standin.stdout,
      /NODE_IMAGE=grpc-lb-standin\/node:20\.20\.2 ENVOY_IMAGE=grpc-lb-standin\/envoy:1\.40\.0 ENVOY_PORT=10100 docker compose/,
    );
    // The names scripts/docker/images.sh builds.
    const images = readFileSync(join(SCRIPTS, "images.sh"), "utf8");
    assert.match(images, /NODE_STANDIN=grpc-lb-standin\/node:\$NODE_VERSION/);
    assert.match(images, /NODE_VERSION=\$\{NODE_VERSION:-20\.20\.2\}/);
    assert.match(images, /ENVOY_STANDIN=grpc-lb-standin\/envoy:\$ENVOY_VERSION/);

    const { ENVOY_PORT: _, ...withoutPort } = process.env;
    const official = await run(
      "make",
      ["-n", "--no-print-directory", "docker-cluster", "IMAGES=official"],
      withoutPort,
    );
    assert.equal(official.code, 0, official.stderr);
    assert.doesNotMatch(official.stdout, /grpc-lb-standin/);
    assert.match(official.stdout, /^ENVOY_PORT=10000 docker compose/m);

    const bogus = await run("make", ["-n", "docker-cluster", "IMAGES=mine"]);
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.stderr, /IMAGES must be 'official' or 'standin', not 'mine'/);
  });

  it("make TLS=1 starts and tests the TLS variant, certificates first; docker-down stops either with compose.yaml", async () => {
    const cluster = await run("make", [
      "-n",
      "--no-print-directory",
      "docker-cluster",
      "TLS=1",
      "COMPOSE_CERTS=/tmp/grpc-lb-none",
    ]);
    assert.equal(cluster.code, 0, cluster.stderr);
    const lines = cluster.stdout.split("\n");
    const certs = lines.findIndex((l) =>
      / certs --out \/tmp\/grpc-lb-none --server-name server --shared-name server --group-readable-keys/.test(
        l,
      ),
    );
    const up = lines.findIndex((l) =>
      /docker compose -f deploy\/compose\/compose\.yaml -f deploy\/compose\/compose\.tls\.yaml up /.test(l),
    );
    assert.ok(certs >= 0 && up > certs, cluster.stdout);
    assert.match(lines[up] ?? "", /CERTS_DIR=\/tmp\/grpc-lb-none CERTS_GID=\S* docker compose/);
    const test = await run("make", ["-n", "--no-print-directory", "docker-test", "TLS=1"]);
    assert.match(test.stdout, /compose\.tls\.yaml run --rm client/);
    for (const tls of ["", "TLS=1"]) {
      const down = await run("make", ["-n", "--no-print-directory", "docker-down", ...(tls ? [tls] : [])]);
      assert.match(down.stdout, /docker compose -f deploy\/compose\/compose\.yaml --profile client down/);
      assert.doesNotMatch(down.stdout, /compose\.tls\.yaml/);
    }
    const plain = await run("make", ["-n", "--no-print-directory", "docker-cluster"]);
    assert.doesNotMatch(plain.stdout, /compose\.tls\.yaml|certs --out/);
    const bogus = await run("make", ["-n", "docker-cluster", "TLS=yes"]);
    assert.notEqual(bogus.code, 0);
    assert.match(bogus.stderr, /TLS must be 1 or empty, not 'yes'/);
  });
});
