import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { findEnvoy } from "../../src/envoy/binary.js";
import { buildL4ProxyBootstrap } from "../../src/envoy/l4-proxy.js";
import { LB_POLICIES } from "../../src/envoy/options.js";
import { writeSdsFiles } from "../../src/envoy/sds-files.js";
import { validateEnvoyConfig } from "../../src/envoy/validate.js";
import { bootstrapToYaml, envoyConfigYaml } from "../../src/envoy/yaml.js";
import { createCertificates } from "../../src/tls/certs.js";

const envoy = findEnvoy().path;

describe("every Envoy config the builder makes passes `envoy --mode validate`", () => {
  const variants = {
    defaults: {},
    lab: {
      listenPort: 0,
      adminPort: 0,
      dnsRefreshMs: 250,
      dnsResolvers: { kind: "servers" as const, servers: [{ address: "127.0.0.1", port: 5353 }] },
    },
    containers: { listenAddress: "0.0.0.0", serverHost: "server.grpc-lb.svc.cluster.local" },
    "connection age and drain": { maxConnectionDurationMs: 300_000, drainTimeoutMs: 15_000 },
    ...Object.fromEntries(LB_POLICIES.map((policy) => [policy, { policy }])),
  };
  for (const [name, options] of Object.entries(variants)) {
    it(name, async () => {
      const result = await validateEnvoyConfig(envoy, envoyConfigYaml(options));
      assert.ok(result.ok, result.output);
      assert.match(result.output, /OK/);
      assert.doesNotMatch(result.output, /deprecated/i);
    });
  }

  for (const mtls of [false, true]) {
    it(`TLS on both legs${mtls ? " with Envoy's client certificate (mTLS)" : ""}, certificates by file SDS`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "grpc-lb-validate-tls-"));
      try {
        const tls = { certsDir: join(dir, "certs"), sdsDir: join(dir, "sds"), mtls };
        await createCertificates(tls.certsDir);
        await writeSdsFiles(tls);
        const yaml = envoyConfigYaml({ tls });
        const result = await validateEnvoyConfig(envoy, yaml);
        assert.ok(result.ok, result.output);
        assert.doesNotMatch(result.output, /deprecated/i);
        assert.equal(yaml.includes("client_cert"), mtls);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it("the L4 proxy standing in for kube-proxy", async () => {
    const yaml = bootstrapToYaml(
      buildL4ProxyBootstrap({
        virtualIp: "127.77.255.254",
        port: 50051,
        endpoints: [1, 2, 3].map((i) => ({ address: `127.77.0.${i}`, port: 50051 })),
        adminPort: 0,
      }),
    );
    const result = await validateEnvoyConfig(envoy, yaml);
    assert.ok(result.ok, result.output);
    assert.doesNotMatch(result.output, /deprecated/i);
  });

  it("the connection balancer in front of Envoy replicas, by their /ready", async () => {
    const yaml = bootstrapToYaml(
      buildL4ProxyBootstrap({
        virtualIp: "127.0.0.1",
        port: 0,
        endpoints: [1, 2].map((i) => ({ address: "127.0.0.1", port: 10000 + i, healthPort: 9900 + i })),
        adminPort: 0,
        readiness: { path: "/ready", intervalMs: 100, timeoutMs: 250 },
      }),
    );
    const result = await validateEnvoyConfig(envoy, yaml);
    assert.ok(result.ok, result.output);
    assert.doesNotMatch(result.output, /deprecated/i);
  });

  it("and the validator does reject a broken config", async () => {
    const broken = envoyConfigYaml().replace("lb_policy: ROUND_ROBIN", "lb_policy: FASTEST_FIRST");
    const result = await validateEnvoyConfig(envoy, broken);
    assert.equal(result.ok, false);
    assert.match(result.output, /FASTEST_FIRST/);
  });
});
