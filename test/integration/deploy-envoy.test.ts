import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { DEPLOY_PRESETS } from "../../src/deploy/presets.js";
import { findEnvoy } from "../../src/envoy/binary.js";
import { validateEnvoyConfig } from "../../src/envoy/validate.js";
import { packageRoot } from "../../src/paths.js";

const envoy = findEnvoy().path;

describe("the Envoy configs checked in under deploy/ pass `envoy --mode validate`", () => {
  for (const preset of DEPLOY_PRESETS) {
    it(`${preset.name}: ${preset.output.path}`, async () => {
      const text = await readFile(join(packageRoot, preset.output.path), "utf8");
      // What Envoy reads: the file itself, or the ConfigMap key mounted as /etc/envoy/envoy.yaml.
      const config = preset.output.kind === "configmap" ? parse(text).data["envoy.yaml"] : text;
      assert.equal(typeof config, "string");
      const result = await validateEnvoyConfig(envoy, config);
      assert.ok(result.ok, result.output);
      assert.match(result.output, /OK/);
      assert.doesNotMatch(result.output, /deprecated/i);
    });
  }
});
