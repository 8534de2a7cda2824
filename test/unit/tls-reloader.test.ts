import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { experimental } from "@grpc/grpc-js";
import { TlsError } from "../../src/errors.js";
import { createCertificates } from "../../src/tls/certs.js";
import type { CertsManifest } from "../../src/tls/layout.js";
import { type ReloadEvent, startCertificateReloader } from "../../src/tls/reloader.js";
import { rotateCertificates } from "../../src/tls/rotate.js";
import { waitFor } from "../../src/util/wait.js";

const scratch = mkdtempSync(join(tmpdir(), "grpc-lb-reload-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const setDir = join(scratch, "set");
const current = (name: string): string => join(setDir, "current", name);
const serialOf = (name: string): string =>
  (JSON.parse(readFileSync(current("manifest.json"), "utf8")) as CertsManifest).leaves.find(
    (l) => l.name === name,
  )?.serial ?? "";

/** A reloader whose timer never fires during a test: it looks at the files when the test calls check(). */
const MANUAL_MS = 3_600_000;

before(async () => {
  await createCertificates(setDir, { servers: 2 });
});

describe("the certificate reloader", () => {
  it("loads the files and hands grpc-js its first update on a later tick, never inside the add call", async (t) => {
    const events: ReloadEvent[] = [];
    const reloader = await startCertificateReloader({
      certFile: current("server-1.crt"),
      keyFile: current("server-1.key"),
      caFile: current("ca.crt"),
      pollMs: MANUAL_MS,
      onEvent: (e) => events.push(e),
    });
    t.after(() => reloader.stop());
    assert.equal(reloader.current().serial, serialOf("server-1"));
    const identities: experimental.IdentityCertificateUpdate[] = [];
    const cas: (experimental.CaCertificateUpdate | null)[] = [];
    reloader.provider.addIdentityCertificateListener((u) => u && identities.push(u));
    reloader.provider.addCaCertificateListener((u) => cas.push(u));
    assert.equal(identities.length + cas.length, 0, "nothing delivered synchronously");
    await new Promise<void>((resolve) => process.nextTick(resolve));
    assert.equal(identities.length, 1);
    assert.deepEqual(identities[0]?.certificate, readFileSync(current("server-1.crt")));
    assert.deepEqual(cas[0]?.caCertificate, readFileSync(current("ca.crt")));

    await reloader.check();
    assert.equal(events.length, 0, "unchanged files are not re-applied");
    await rotateCertificates(setDir, "leaves", { only: ["server-1"] });
    await reloader.check();
    assert.deepEqual(
      events.map((e) => e.kind),
      ["reloaded"],
    );
    assert.equal(reloader.current().serial, serialOf("server-1"));
    assert.equal(identities.length, 2, "listeners got the new identity");
    assert.deepEqual(identities[1]?.certificate, readFileSync(current("server-1.crt")));
  });

  it("follows the current link by polling, on its own", async (t) => {
    const seen: string[] = [];
    const reloader = await startCertificateReloader({
      certFile: current("server-2.crt"),
      keyFile: current("server-2.key"),
      caFile: undefined,
      pollMs: 20,
      onEvent: (e) => e.kind === "reloaded" && seen.push(e.serial),
    });
    t.after(() => reloader.stop());
    await rotateCertificates(setDir, "leaves", { only: ["server-2"] });
    const want = serialOf("server-2");
    await waitFor("the reload of server-2", () => (seen.includes(want) ? true : undefined), {
      timeoutMs: 5000,
    });
    assert.equal(reloader.current().serial, want);
  });

  it("keeps serving the old identity through a torn rewrite, and takes the new one once whole", async (t) => {
    const plain = join(scratch, "plain");
    mkdirSync(plain);
    const cert = join(plain, "tls.crt");
    const key = join(plain, "tls.key");
    copyFileSync(current("server-1.crt"), cert);
    copyFileSync(current("server-1.key"), key);
    const events: ReloadEvent[] = [];
    const reloader = await startCertificateReloader({
      certFile: cert,
      keyFile: key,
      caFile: undefined,
      pollMs: MANUAL_MS,
      onEvent: (e) => events.push(e),
    });
    t.after(() => reloader.stop());
    const old = reloader.current().serial;
    await rotateCertificates(setDir, "leaves", { only: ["server-1"] });
    writeFileSync(cert, readFileSync(current("server-1.crt")));
    await reloader.check();
    await reloader.check();
    assert.equal(events.length, 1, "one report per reason, not one per tick");
    const failed = events[0];
    assert.equal(failed?.kind, "reload-failed");
    assert.match(
      failed.kind === "reload-failed" ? failed.error : "",
      /tls\.key is not the key of .*tls\.crt/,
    );
    assert.equal(reloader.current().serial, old, "the old identity still serves");
    writeFileSync(key, readFileSync(current("server-1.key")));
    await reloader.check();
    assert.equal(events[1]?.kind, "reloaded");
    assert.equal(reloader.current().serial, serialOf("server-1"));
  });

  it("refuses unusable files at start with one line naming the file", async () => {
    const bad = join(scratch, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "garbage.pem"), "not a certificate\n");
    // Each attempt starts only when its turn comes, so no rejection waits unhandled.
    const start = (certFile: string, keyFile: string, caFile?: string) => () =>
      startCertificateReloader({ certFile, keyFile, caFile, pollMs: MANUAL_MS });
    const cases: [() => Promise<unknown>, RegExp][] = [
      [
        start(join(bad, "missing.crt"), current("server-1.key")),
        /^tls: cannot read the certificate .*missing\.crt: no such file$/,
      ],
      [
        start(current("server-1.crt"), current("server-2.key")),
        /server-2\.key is not the key of .*server-1\.crt/,
      ],
      [start(join(bad, "garbage.pem"), current("server-1.key")), /garbage\.pem is not a PEM certificate/],
      [start(current("server-1.crt"), join(bad, "garbage.pem")), /garbage\.pem is not a PEM private key/],
      [
        start(current("server-1.crt"), current("server-1.key"), join(bad, "garbage.pem")),
        /garbage\.pem holds no PEM certificate/,
      ],
    ];
    for (const [attempt, message] of cases) {
      await assert.rejects(
        attempt,
        (e) => e instanceof TlsError && message.test(e.message) && !e.message.includes("\n"),
      );
    }
  });
});
