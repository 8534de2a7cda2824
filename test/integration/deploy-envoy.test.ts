import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import { presetSdsFiles } from "../../src/deploy/generate.js";
import { DEPLOY_PRESETS, type DeployPreset } from "../../src/deploy/presets.js";
import { findEnvoy } from "../../src/envoy/binary.js";
import { validateEnvoyConfig } from "../../src/envoy/validate.js";
import { packageRoot } from "../../src/paths.js";

const envoy = findEnvoy().path;
const roots: string[] = [];
after(() => Promise.all(roots.map((d) => rm(d, { recursive: true, force: true }))));

/**
 * What Envoy reads: the file itself, or the ConfigMap key mounted as /etc/envoy/envoy.yaml.
 * A TLS preset names its SDS files by their paths in the container, which Envoy's validation
 * requires to exist: they are written under a temporary root, and the config and SDS files
 * point there instead of /etc/envoy/.
 */
async function configOf(preset: DeployPreset): Promise<string> {
  const text = await readFile(join(packageRoot, preset.output.path), "utf8");
  const config: unknown = preset.output.kind === "configmap" ? parse(text).data["envoy.yaml"] : text;
  assert.equal(typeof config, "string");
  const tls = preset.envoy.tls;
  if (tls === undefined || tls === false) return config as string;
  const root = await mkdtemp(join(tmpdir(), "grpc-lb-deploy-tls-"));
  roots.push(root);
  const moved = (s: string) => s.replaceAll("/etc/envoy/", `${root}/etc/envoy/`);
  for (const [name, content] of Object.entries(presetSdsFiles(preset))) {
    const path = join(root, tls.sdsDir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, moved(content));
  }
  await mkdir(join(root, tls.certsDir), { recursive: true });
  return moved(config as string);
}

describe("the Envoy configs checked in under deploy/ pass `envoy --mode validate`", () => {
  for (const preset of DEPLOY_PRESETS) {
    it(`${preset.name}: ${preset.output.path}`, async () => {
      const result = await validateEnvoyConfig(envoy, await configOf(preset));
      assert.ok(result.ok, result.output);
      assert.match(result.output, /OK/);
      assert.doesNotMatch(result.output, /deprecated/i);
    });
  }
});
