import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { main } from "../../src/cli/main.js";
import { TlsError } from "../../src/errors.js";
import { pemBlocks } from "../../src/tls/cert-set.js";
import { createCertificates } from "../../src/tls/certs.js";
import type { CertsManifest } from "../../src/tls/layout.js";
import { rotateCertificates } from "../../src/tls/rotate.js";
import { x509 } from "../../src/tls/x509.js";
import { captureContext } from "../helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "grpc-lb-certs-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(scratch, `set-${++dirs}`);

const cert = (dir: string, name: string): X509Certificate =>
  new X509Certificate(readFileSync(join(dir, "current", `${name}.crt`)));
const bundle = (dir: string): X509Certificate[] =>
  pemBlocks(readFileSync(join(dir, "current", "ca.crt"), "utf8")).map((p) => new X509Certificate(p));
const manifest = (dir: string): CertsManifest =>
  JSON.parse(readFileSync(join(dir, "current", "manifest.json"), "utf8")) as CertsManifest;
const signedBy = (leaf: X509Certificate, ca: X509Certificate): boolean =>
  leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
const LEAVES = ["envoy-listener", "envoy-client", "server-1", "server-2"];
const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

describe("a certificate set", () => {
  const dir = freshDir();
  let created: Awaited<ReturnType<typeof createCertificates>>;

  it("is written as v1 behind current, each leaf signed by the CA", async (t) => {
    created = await createCertificates(dir, { servers: 2, k8sNamespace: "grpc-lb" });
    t.diagnostic(`CA and ${LEAVES.length} leaves in ${created.elapsedMs} ms`);
    assert.equal(readlinkSync(join(dir, "current")), "v1");
    assert.equal(created.path, join(dir, "v1"));
    const [ca, ...others] = bundle(dir);
    assert.ok(ca && others.length === 0, "one CA");
    assert.equal(ca.ca, true);
    for (const name of LEAVES) {
      const leaf = cert(dir, name);
      assert.equal(leaf.ca, false, name);
      assert.ok(signedBy(leaf, ca), `${name} is signed by the CA`);
      assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1", name);
    }
    const ext = new x509.X509Certificate(readFileSync(join(dir, "current", "ca.crt"), "utf8"));
    const constraints = ext.getExtension(x509.BasicConstraintsExtension);
    assert.equal(constraints?.ca, true);
    assert.equal(constraints?.pathLength, 0);
  });

  it("verifies with openssl", { skip: hasOpenssl ? false : "no openssl on PATH" }, () => {
    const cur = join(dir, "current");
    const files = LEAVES.map((n) => join(cur, `${n}.crt`));
    const run = spawnSync("openssl", ["verify", "-CAfile", join(cur, "ca.crt"), ...files], {
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    for (const f of files) assert.ok(run.stdout.includes(`${f}: OK`), run.stdout);
  });

  it("names what STRICT_DNS, Kubernetes and the loopback lab dial", () => {
    assert.equal(
      cert(dir, "server-1").subjectAltName,
      "DNS:server, DNS:server.grpc-lb.svc, DNS:server.grpc-lb.svc.cluster.local, DNS:server-1, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    const server2 = cert(dir, "server-2");
    assert.equal(server2.checkHost("server"), "server");
    assert.equal(server2.checkHost("server-2"), "server-2");
    assert.equal(server2.checkHost("server-1"), undefined);
    assert.equal(server2.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(
      cert(dir, "envoy-listener").checkHost("envoy.grpc-lb.svc.cluster.local"),
      "envoy.grpc-lb.svc.cluster.local",
    );
    assert.deepEqual(cert(dir, "server-1").keyUsage, ["1.3.6.1.5.5.7.3.1"], "serverAuth");
    assert.deepEqual(cert(dir, "envoy-client").keyUsage, ["1.3.6.1.5.5.7.3.2"], "clientAuth");
    assert.equal(cert(dir, "envoy-client").subject, "CN=envoy");
  });

  it("writes keys 0600 and certificates 0644, and records serials in the manifest", () => {
    const v1 = join(dir, "v1");
    for (const f of readdirSync(v1)) {
      const mode = statSync(join(v1, f)).mode & 0o777;
      assert.equal(mode, f.endsWith(".key") ? 0o600 : 0o644, f);
    }
    const m = manifest(dir);
    assert.equal(m.version, 1);
    assert.equal(bundle(dir)[0]?.subject, `CN=${m.cas[0]?.commonName}`);
    assert.deepEqual(
      m.leaves.map((l) => [l.name, l.serial]),
      LEAVES.map((n) => [n, cert(dir, n).serialNumber.toUpperCase()]),
    );
  });

  it("refuses to overwrite a set", async () => {
    await assert.rejects(
      createCertificates(dir),
      (e) => e instanceof TlsError && /already holds/.test(e.message),
    );
  });

  it("rotates leaves from the same CA into v2, keeping v1 for readers", async () => {
    const before = manifest(dir);
    await rotateCertificates(dir, "leaves");
    assert.equal(readlinkSync(join(dir, "current")), "v2");
    const after = manifest(dir);
    assert.deepEqual(after.cas, before.cas);
    for (const [i, leaf] of after.leaves.entries())
      assert.notEqual(leaf.serial, before.leaves[i]?.serial, leaf.name);
    assert.ok(readdirSync(dir).includes("v1"));
    await rotateCertificates(dir, "leaves", { only: ["server-2"] });
    const third = manifest(dir);
    assert.equal(third.leaves.find((l) => l.name === "server-1")?.serial, after.leaves[2]?.serial);
    assert.notEqual(third.leaves.find((l) => l.name === "server-2")?.serial, after.leaves[3]?.serial);
    assert.deepEqual(readdirSync(dir).sort(), ["current", "v2", "v3"], "v1 pruned, no temp files left");
  });
});

describe("a CA rotation", () => {
  it("overlaps: new CA trusted beside the old, then new leaves, then the old CA retired", async () => {
    const dir = freshDir();
    await createCertificates(dir, { servers: 1 });
    const [oldCa] = bundle(dir);
    assert.ok(oldCa);

    await rotateCertificates(dir, "ca");
    const [newCa, stillOld] = bundle(dir);
    assert.ok(newCa && stillOld);
    assert.equal(stillOld.fingerprint256, oldCa.fingerprint256, "the old CA stays trusted");
    assert.ok(signedBy(cert(dir, "server-1"), oldCa), "leaves are unchanged until rotated");
    await assert.rejects(rotateCertificates(dir, "retire-old-ca"), /still chain to the old CA/);

    await rotateCertificates(dir, "leaves");
    for (const name of ["envoy-listener", "envoy-client", "server-1"])
      assert.ok(signedBy(cert(dir, name), newCa), `${name} from the new CA`);

    await rotateCertificates(dir, "retire-old-ca");
    assert.deepEqual(
      bundle(dir).map((c) => c.fingerprint256),
      [newCa.fingerprint256],
    );
    assert.equal(manifest(dir).cas.length, 1);
    await assert.rejects(rotateCertificates(dir, "retire-old-ca"), /nothing to retire/);
  });
});

/**
 * A reader in another thread resolves `current` and reads the whole version it
 * points to, over and over, while versions are written. It counts a failure for
 * any version it finds incomplete or mismatched (key not the certificate's), and
 * tells apart a version pruned under it (two newer ones written meanwhile).
 */
const READER = `
const { parentPort, workerData } = require("node:worker_threads");
const { readFileSync, readlinkSync, existsSync } = require("node:fs");
const { X509Certificate, createPrivateKey } = require("node:crypto");
const { join } = require("node:path");
const seen = new Set(); let reads = 0; let pruned = 0; const failures = [];
let stop = false;
parentPort.on("message", () => { stop = true; });
function once() {
  let target;
  try { target = readlinkSync(join(workerData.dir, "current")); } catch (e) { failures.push("current: " + e.code); return; }
  const base = join(workerData.dir, target);
  try {
    const m = JSON.parse(readFileSync(join(base, "manifest.json"), "utf8"));
    for (const leaf of m.leaves) {
      const cert = new X509Certificate(readFileSync(join(base, leaf.name + ".crt")));
      const key = createPrivateKey(readFileSync(join(base, leaf.name + ".key")));
      if (!cert.checkPrivateKey(key)) failures.push(target + ": " + leaf.name + " key mismatch");
      if (cert.serialNumber.toUpperCase() !== leaf.serial) failures.push(target + ": " + leaf.name + " serial differs");
    }
    seen.add(target); reads++;
  } catch (e) {
    if (existsSync(base)) failures.push(target + ": " + e.message); else pruned++;
  }
}
(function loop() {
  for (let i = 0; i < 20 && !stop; i++) once();
  if (stop) parentPort.postMessage({ reads, pruned, failures, seen: [...seen] });
  else setImmediate(loop);
})();
`;

describe("the current link", () => {
  it("always points to a whole version while versions are written", async (t) => {
    const dir = freshDir();
    await createCertificates(dir, { servers: 2 });
    const worker = new Worker(READER, { eval: true, workerData: { dir } });
    const result = new Promise<{ reads: number; pruned: number; failures: string[]; seen: string[] }>(
      (resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      },
    );
    const rotations = 8;
    for (let i = 0; i < rotations; i++) await rotateCertificates(dir, "leaves");
    worker.postMessage("stop");
    const r = await result;
    await worker.terminate();
    t.diagnostic(`${r.reads} whole reads of ${r.seen.length} versions, ${r.pruned} pruned under the reader`);
    assert.deepEqual(r.failures, []);
    assert.ok(r.seen.length >= 2, `the reader saw ${r.seen.join(", ")}`);
    assert.equal(readlinkSync(join(dir, "current")), `v${rotations + 1}`);
  });
});

describe("grpc-lb certs (in process)", () => {
  const run = async (...argv: string[]) => {
    const c = captureContext();
    const code = await main(["certs", ...argv], c.ctx);
    return { code, out: c.stdout(), err: c.stderr() };
  };

  it("writes a set and prints where, with every file's names", async () => {
    const dir = freshDir();
    const r = await run("--out", dir, "--server-name", "alpha", "--server-name", "beta", "--days", "7");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^wrote ${join(dir, "v1")} in \\d+ ms; ${join(dir, "current")} -> v1\\n`));
    assert.match(r.out, /alpha\.crt +server +server, alpha, localhost, 127\.0\.0\.1, ::1 +serial [0-9A-F]+/);
    const days = (Date.parse(cert(dir, "beta").validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, `beta valid ${days} days`);
    const json = await run("--out", dir, "--rotate", "leaves", "--json");
    assert.equal(json.code, 0, json.err);
    assert.equal((JSON.parse(json.out) as { manifest: CertsManifest }).manifest.version, 2);
  });

  it("refuses bad usage with exit 2 and an unusable directory with exit 1, in one line", async () => {
    const dir = freshDir();
    const cases: [string[], number, RegExp][] = [
      [[], 2, /--out DIR is required/],
      [["--out", dir, "--servers", "0"], 2, /--servers must be an integer from 1/],
      [["--out", dir, "--servers", "2", "--server-name", "a"], 2, /not both/],
      [["--out", dir, "--server-name", "Not_A_Name"], 2, /not a DNS name/],
      [["--out", dir, "--server-name", "ca"], 2, /cannot be called 'ca'/],
      [["--out", dir, "--rotate", "everything"], 2, /--rotate must be one of leaves, ca, retire-old-ca/],
      [["--out", dir, "--rotate", "ca", "--servers", "2"], 2, /--servers shapes a new set/],
      [["--out", dir, "--only", "server-1"], 2, /--only goes with --rotate leaves/],
      [["--out", dir, "--rotate", "leaves"], 1, /holds no certificates/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await run(...argv);
      assert.equal(r.code, code, `${argv.join(" ")}: ${r.err}`);
      assert.match(r.err, message);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
    }
  });
});
