import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildBootstrap } from "../../src/envoy/bootstrap.js";
import { resolveEnvoyConfigOptions } from "../../src/envoy/options.js";
import { buildSdsFiles, SDS_SECRETS } from "../../src/envoy/tls.js";
import { envoyConfigYaml } from "../../src/envoy/yaml.js";
import { UsageError } from "../../src/errors.js";

const tls = { certsDir: "/certs", sdsDir: "/sds", mtls: true };
const build = (o = {}) => buildBootstrap(resolveEnvoyConfigOptions(o));

describe("envoy bootstrap builder over TLS", () => {
  it("leaves every plaintext config as it was: no TLS word appears unless asked", () => {
    assert.doesNotMatch(envoyConfigYaml(), /transport_socket|tls_options|alpn/);
    assert.equal(envoyConfigYaml(), envoyConfigYaml({ tls: false }));
  });

  it("offers h2 and http/1.1 by ALPN on the listener, with its certificate by file SDS", () => {
    const chain = build({ tls }).static_resources.listeners[0]?.filter_chains[0];
    const ctx = chain?.transport_socket?.typed_config.common_tls_context;
    assert.deepEqual(ctx?.alpn_protocols, ["h2", "http/1.1"]);
    const sds = ctx?.tls_certificate_sds_secret_configs?.[0];
    assert.equal(sds?.name, SDS_SECRETS.listener);
    assert.deepEqual(sds?.sds_config.path_config_source, {
      path: "/sds/listener_cert.yaml",
      watched_directory: { path: "/certs" },
    });
  });

  it("speaks h2 by ALPN to the servers and on the health checks, and checks the shared name", () => {
    const cluster = build({ tls, serverHost: "server.ns.svc.cluster.local." }).static_resources.clusters[0];
    const upstream = cluster?.transport_socket?.typed_config;
    assert.equal(upstream?.sni, "server.ns.svc.cluster.local");
    assert.deepEqual(upstream?.common_tls_context.alpn_protocols, ["h2"]);
    assert.deepEqual(
      upstream?.common_tls_context.combined_validation_context?.default_validation_context
        .match_typed_subject_alt_names,
      [{ san_type: "DNS", matcher: { exact: "server.ns.svc.cluster.local" } }],
    );
    assert.equal(
      upstream?.common_tls_context.tls_certificate_sds_secret_configs?.[0]?.name,
      SDS_SECRETS.client,
    );
    assert.deepEqual(cluster?.health_checks?.[0]?.tls_options, { alpn_protocols: ["h2"] });
    // The same health checks, outlier detection and retries as in plaintext.
    const plain = build({ serverHost: "server.ns.svc.cluster.local." }).static_resources.clusters[0];
    assert.deepEqual(cluster?.outlier_detection, plain?.outlier_detection);
    assert.deepEqual(cluster?.circuit_breakers, plain?.circuit_breakers);
    assert.equal(cluster?.health_checks?.[0]?.interval, plain?.health_checks?.[0]?.interval);
  });

  it("presents no client certificate without mTLS", () => {
    const upstream = build({ tls: { ...tls, mtls: false } }).static_resources.clusters[0]?.transport_socket;
    assert.equal(upstream?.typed_config.common_tls_context.tls_certificate_sds_secret_configs, undefined);
    assert.deepEqual(Object.keys(buildSdsFiles({ ...tls, mtls: false })).sort(), [
      "listener_cert.yaml",
      "server_ca.yaml",
    ]);
  });

  it("with downstreamOnly, terminates TLS on the listener and speaks plaintext h2c to the servers", () => {
    const b = build({ tls: { ...tls, mtls: false, downstreamOnly: true } });
    const chain = b.static_resources.listeners[0]?.filter_chains[0];
    assert.deepEqual(chain?.transport_socket?.typed_config.common_tls_context.alpn_protocols, [
      "h2",
      "http/1.1",
    ]);
    const cluster = b.static_resources.clusters[0];
    const plain = build().static_resources.clusters[0];
    assert.equal(cluster?.transport_socket, undefined);
    assert.deepEqual(cluster?.health_checks, plain?.health_checks);
  });

  it("points each SDS secret into the current version, watching the directory whose link is swapped", () => {
    const files = buildSdsFiles(tls);
    const listener = files["listener_cert.yaml"]?.resources[0];
    assert.ok(listener && "tls_certificate" in listener);
    assert.deepEqual(listener.tls_certificate, {
      certificate_chain: { filename: "/certs/current/envoy-listener.crt" },
      private_key: { filename: "/certs/current/envoy-listener.key" },
      watched_directory: { path: "/certs" },
    });
    const client = files["client_cert.yaml"]?.resources[0];
    assert.ok(client && "tls_certificate" in client);
    assert.equal(client.tls_certificate.certificate_chain.filename, "/certs/current/envoy-client.crt");
    const ca = files["server_ca.yaml"]?.resources[0];
    assert.ok(ca && "validation_context" in ca);
    assert.equal(ca.validation_context.trusted_ca.filename, "/certs/current/ca.crt");
  });

  it("wants absolute directories, as Envoy resolves relative ones from wherever it was started", () => {
    assert.throws(
      () => resolveEnvoyConfigOptions({ tls: { ...tls, certsDir: "certs" } }),
      (e: unknown) =>
        e instanceof UsageError && /tls.certsDir must be an absolute path, got 'certs'/.test(e.message),
    );
  });
});
