import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findEnvoy } from "../../src/envoy/binary.js";
import { buildEdsBootstrap } from "../../src/envoy/bootstrap-eds.js";
import {
  type EnvoyConfigOptions,
  resolveEdsOptions,
  resolveEnvoyConfigOptions,
} from "../../src/envoy/options.js";
import { validateEnvoyConfig } from "../../src/envoy/validate.js";
import { bootstrapToYaml } from "../../src/envoy/yaml.js";

const envoy = findEnvoy().path;

describe("every EDS config the builder makes passes `envoy --mode validate`", () => {
  const variants: Record<string, [EnvoyConfigOptions, { initialFetchTimeoutMs?: number }]> = {
    defaults: [{}, {}],
    "the lab's": [{ listenPort: 0, adminPort: 0, updateMergeWindowMs: 0 }, {}],
    "least_request, no health checks, waiting for ever": [
      { policy: "least_request", healthCheck: false },
      { initialFetchTimeoutMs: 0 },
    ],
    ring_hash: [{ policy: "ring_hash" }, {}],
  };
  for (const [name, [options, eds]] of Object.entries(variants)) {
    it(name, async () => {
      const yaml = bootstrapToYaml(
        buildEdsBootstrap(
          resolveEnvoyConfigOptions(options),
          resolveEdsOptions({ xdsAddress: "127.0.0.1", xdsPort: 18000, ...eds }),
        ),
      );
      const result = await validateEnvoyConfig(envoy, yaml);
      assert.ok(result.ok, result.output);
      assert.match(result.output, /OK/);
      assert.doesNotMatch(result.output, /deprecated/i);
    });
  }
});
