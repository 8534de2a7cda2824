import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { K8S_TIMING } from "../../src/engines/k8s/timing.js";
import { packageRoot } from "../../src/paths.js";

const SCRIPTS = join(packageRoot, "scripts", "k8s-local");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script with the given environment on top of one without any opt-in (CI may set CI=true). */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.CI;
  delete base.GRPC_LB_ALLOW_INSTALL;
  return new Promise((resolve, reject) => {
    execFile(
      join(SCRIPTS, script),
      args,
      { env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== "number") reject(err);
        else resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
      },
    );
  });
}

describe("scripts/k8s-local, without starting a cluster", () => {
  let tmp = "";
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "grpc-lb-k8s-local-"));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("up.sh refuses to install or start anything without opt-in (exit 2), naming the variables", async () => {
    const r = await run("up.sh", [], { K8S_LOCAL_DIR: join(tmp, "never") });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /GRPC_LB_ALLOW_INSTALL=1 \(or CI=true\)/);
    await assert.rejects(readFile(join(tmp, "never", "kubeconfig")), /ENOENT/);
  });

  it("e2e.sh refuses without opt-in too", async () => {
    const r = await run("e2e.sh", [], { K8S_LOCAL_DIR: join(tmp, "never") });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /refusing/);
  });

  it("build.sh rejects an unknown part with exit 2", async () => {
    const r = await run("build.sh", ["etcd"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: build.sh \[all\|kubernetes\|coredns\]/);
  });

  it("applies base for the user's cluster and the stand-in overlays for the local one", async () => {
    const dir = join(tmp, "state");
    const env = { K8S_LOCAL_DIR: dir };
    assert.equal((await run("kustomize-dir.sh", ["headless"], env)).stdout.trim(), "deploy/k8s/base");
    assert.equal(
      (await run("kustomize-dir.sh", ["clusterip"], env)).stdout.trim(),
      "deploy/k8s/overlays/clusterip",
    );
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "kubeconfig"), "apiVersion: v1\nkind: Config\n");
    assert.equal(
      (await run("kustomize-dir.sh", ["headless"], env)).stdout.trim(),
      "deploy/k8s/overlays/local",
    );
    assert.equal(
      (await run("kustomize-dir.sh", ["clusterip"], env)).stdout.trim(),
      "deploy/k8s/overlays/local-clusterip",
    );
    const bad = await run("kustomize-dir.sh", ["nodeport"], env);
    assert.equal(bad.code, 2);
  });

  it("image-archive.sh writes an image archive whose digests match its content", async () => {
    const root = join(tmp, "rootfs");
    await mkdir(root, { recursive: true });
    await writeFile(join(root, "hello"), "hi\n");
    const out = join(tmp, "image.tar");
    const r = await run("image-archive.sh", ["grpc-lb-test/hello:1", root, out, "/hello", "--flag"]);
    assert.equal(r.code, 0, r.stderr);
    const x = join(tmp, "x");
    await mkdir(x);
    await new Promise<void>((resolve, reject) =>
      execFile("tar", ["-xf", out, "-C", x], (e) => (e ? reject(e) : resolve())),
    );
    const manifest = JSON.parse(await readFile(join(x, "manifest.json"), "utf8"));
    assert.deepEqual(manifest[0].RepoTags, ["grpc-lb-test/hello:1"]);
    const sha = async (p: string) =>
      createHash("sha256")
        .update(await readFile(join(x, p)))
        .digest("hex");
    assert.equal(`${await sha(manifest[0].Config)}.json`, manifest[0].Config);
    const config = JSON.parse(await readFile(join(x, manifest[0].Config), "utf8"));
    assert.deepEqual(config.config.Entrypoint, ["/hello", "--flag"]);
    assert.deepEqual(config.rootfs.diff_ids, [`sha256:${await sha(manifest[0].Layers[0])}`]);
    const missing = await run("image-archive.sh", ["x:1", join(tmp, "nope"), out, "/x"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /is not a directory/);
  });

  it("serves the cluster zone with the TTL and cache the removal budget assumes", async () => {
    const addons = await readFile(join(SCRIPTS, "addons.yaml"), "utf8");
    const seconds = K8S_TIMING.clusterDnsCacheMs / 1000;
    assert.match(addons, new RegExp(`^\\s+ttl ${seconds}$`, "m"));
    assert.match(addons, new RegExp(`^\\s+cache ${seconds}$`, "m"));
    assert.doesNotMatch(addons, /^\s+forward\b/m, "no upstream resolver to forward to");
  });
});
