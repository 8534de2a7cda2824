import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../src/cli/main.js";
import { rotateCertificates } from "../../src/tls/rotate.js";
import { captureContext } from "../helpers.js";

const scratch = mkdtempSync(join(tmpdir(), "grpc-lb-key-modes-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The permission bits of every file of DIR/current, by name. */
function modes(dir: string): Record<string, string> {
  const current = join(dir, "current");
  return Object.fromEntries(
    readdirSync(current).map((f) => [f, (statSync(join(current, f)).mode & 0o777).toString(8)]),
  );
}

const certs = async (argv: string[]): Promise<{ code: number; stderr: string }> => {
  const c = captureContext();
  const code = await main(["certs", ...argv], c.ctx);
  return { code, stderr: c.stderr() };
};

// Compose's TLS variant mounts a set that Envoy (101) and the servers (1000) read as another
// user than its writer: through the group, never through "others".
describe("grpc-lb certs --group-readable-keys", () => {
  it("writes keys 0640 and certificates 0644, and every rotation keeps it", async () => {
    const dir = join(scratch, "group");
    const made = await certs([
      "--out",
      dir,
      "--server-name",
      "server",
      "--shared-name",
      "server",
      "--group-readable-keys",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const expected = {
      "ca.crt": "644",
      "ca.key": "640",
      "envoy-client.crt": "644",
      "envoy-client.key": "640",
      "envoy-listener.crt": "644",
      "envoy-listener.key": "640",
      "manifest.json": "644",
      "server.crt": "644",
      "server.key": "640",
    };
    assert.deepEqual(modes(dir), expected);
    for (const kind of ["leaves", "ca", "leaves", "retire-old-ca"] as const) {
      await rotateCertificates(dir, kind);
      assert.deepEqual(modes(dir), expected, `after --rotate ${kind}`);
    }
    const rotated = await certs(["--out", dir, "--rotate", "leaves", "--only", "server"]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.deepEqual(modes(dir), expected, "after the CLI's --rotate leaves");
  });

  it("keeps keys 0600 without it, through rotations", async () => {
    const dir = join(scratch, "owner");
    assert.equal((await certs(["--out", dir, "--servers", "1"])).code, 0);
    await rotateCertificates(dir, "leaves");
    const keys = Object.entries(modes(dir)).filter(([f]) => f.endsWith(".key"));
    assert.equal(keys.length, 4);
    for (const [f, mode] of keys) assert.equal(mode, "600", f);
  });

  it("is a choice made when the set is created, not by a rotation", async () => {
    const dir = join(scratch, "refused");
    assert.equal((await certs(["--out", dir, "--servers", "1"])).code, 0);
    const r = await certs(["--out", dir, "--rotate", "leaves", "--group-readable-keys"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--group-readable-keys shapes a new set; --rotate keeps the set's own/);
  });
});
