import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Json } from "../src/doctor/envoy-view.js";
import { certFile, keyFile } from "../src/tls/cert-set.js";
import { createCertificates } from "../src/tls/certs.js";
import { createCa, issueLeaf } from "../src/tls/issue.js";
import { CURRENT } from "../src/tls/layout.js";
import { CA_NAME, ENVOY_LISTENER } from "../src/tls/plan.js";
import { chainOf, clusterOf } from "./doctor-fixtures.js";

const T = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.";
const DAY_MS = 86_400_000;

/** A certificate set written by the project's src/tls for TLS fixtures, and where its files are. */
export interface FixtureCerts {
  /** The directory `current` points into: ca.crt, envoy-listener.crt, server-1.crt, … */
  current: string;
  /** The SDS file that delivers Envoy's listener certificate (secret "envoy-listener"). */
  listenerSds: string;
  /** An SDS file like listenerSds whose key file does not exist. */
  brokenSds: string;
  /** A listener certificate and key issued 80 days ago for 90 days: 10 days left. */
  expiring: { cert: string; key: string };
}

/** Writes a set (CA, Envoy's listener, servers server-1…3 with shared name "server") into `dir`. */
export async function writeFixtureCerts(dir: string): Promise<FixtureCerts> {
  const certsDir = join(dir, "certs");
  await createCertificates(certsDir, { servers: 3, sharedNames: ["server"] });
  const current = join(certsDir, CURRENT);
  const listenerSds = join(dir, "listener.sds.yaml");
  await writeFile(listenerSds, stringify(sdsSecret(ENVOY_LISTENER, current)));
  const brokenSds = join(dir, "broken.sds.yaml");
  const broken = sdsSecret(ENVOY_LISTENER, current);
  ((((broken.resources as Json[])[0] as Json).tls_certificate as Json).private_key as Json).filename = join(
    dir,
    "missing.key",
  );
  await writeFile(brokenSds, stringify(broken));
  const past = new Date(Date.now() - 80 * DAY_MS);
  const oldCa = await createCa("grpc-lb fixture old CA", { days: 365, now: past });
  const old = await issueLeaf(
    oldCa.signer,
    {
      name: "old",
      usage: "server",
      commonName: "envoy",
      dnsNames: ["envoy", "localhost"],
      ipAddresses: ["127.0.0.1"],
    },
    { days: 90, now: past },
  );
  const expiring = { cert: join(dir, "old.crt"), key: join(dir, "old.key") };
  await writeFile(expiring.cert, old.certPem);
  await writeFile(expiring.key, old.keyPem, { mode: 0o600 });
  return { current, listenerSds, brokenSds, expiring };
}

/** An SDS file holding the certificate NAME.crt/NAME.key of `dir` as secret NAME. */
export const sdsSecret = (name: string, dir: string): Json => ({
  resources: [
    {
      "@type": `${T}Secret`,
      name,
      tls_certificate: {
        certificate_chain: { filename: join(dir, certFile(name)) },
        private_key: { filename: join(dir, keyFile(name)) },
      },
    },
  ],
});

/** The listener's DownstreamTlsContext in a TLS bootstrap. */
export const listenerTls = (b: Json): Json => (chainOf(b).transport_socket as Json).typed_config as Json;
/** The cluster's UpstreamTlsContext in a TLS bootstrap. */
export const clusterTls = (b: Json): Json => (clusterOf(b).transport_socket as Json).typed_config as Json;
const common = (tls: Json): Json => tls.common_tls_context as Json;

/**
 * The lab's configuration with TLS on both legs, as the notes recommend it and no TLS check
 * objects to: the listener's certificate by SDS from a file and ALPN h2,http/1.1; towards the
 * servers ALPN h2, the set's CA and the shared name "server" checked as a SAN.
 */
export function withTls(b: Json, certs: FixtureCerts): Json {
  chainOf(b).transport_socket = {
    name: "envoy.transport_sockets.tls",
    typed_config: {
      "@type": `${T}DownstreamTlsContext`,
      common_tls_context: {
        alpn_protocols: ["h2", "http/1.1"],
        tls_certificate_sds_secret_configs: [
          {
            name: ENVOY_LISTENER,
            sds_config: { path_config_source: { path: certs.listenerSds }, resource_api_version: "V3" },
          },
        ],
      },
    },
  };
  clusterOf(b).transport_socket = {
    name: "envoy.transport_sockets.tls",
    typed_config: {
      "@type": `${T}UpstreamTlsContext`,
      common_tls_context: {
        alpn_protocols: ["h2"],
        validation_context: {
          trusted_ca: { filename: join(certs.current, certFile(CA_NAME)) },
          match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: "server" } }],
        },
      },
    },
  };
  return b;
}

/** The listener's certificate listed in its TLS context (not by SDS). */
function inlineListenerCert(b: Json, cert: string, key: string): void {
  const c = common(listenerTls(b));
  delete c.tls_certificate_sds_secret_configs;
  c.tls_certificates = [{ certificate_chain: { filename: cert }, private_key: { filename: key } }];
}

/** One TLS check's pair: `bad` breaks the TLS configuration in one place; `good` only when the fix is not Envoy's. */
export interface TlsFixture {
  check: string;
  severity: "error" | "warning" | "info";
  bad(b: Json, certs: FixtureCerts): void;
  good?(b: Json, certs: FixtureCerts): void;
}

/** The TLS checks that need no host to judge: run in doctor --config's throwaway Envoy. */
export const TLS_CONFIG_FIXTURES: TlsFixture[] = [
  {
    check: "tls-upstream-alpn",
    severity: "error",
    bad: (b) => void delete common(clusterTls(b)).alpn_protocols,
  },
  {
    check: "tls-downstream-alpn",
    severity: "error",
    bad: (b) => void delete common(listenerTls(b)).alpn_protocols,
  },
  {
    check: "tls-http1",
    severity: "error",
    // Envoy refuses gRPC health checks without HTTP/2, so this cluster has none.
    bad(b) {
      for (const k of ["typed_extension_protocol_options", "health_checks", "ignore_health_on_host_removal"])
        delete clusterOf(b)[k];
    },
  },
  {
    check: "tls-inline-certs",
    severity: "info",
    bad: (b, certs) =>
      inlineListenerCert(
        b,
        join(certs.current, certFile(ENVOY_LISTENER)),
        join(certs.current, keyFile(ENVOY_LISTENER)),
      ),
  },
  {
    check: "tls-no-name-check",
    severity: "warning",
    bad: (b) => void delete (common(clusterTls(b)).validation_context as Json).match_typed_subject_alt_names,
  },
  {
    check: "tls-sni-per-host",
    severity: "info",
    bad(b) {
      const tls = clusterTls(b);
      tls.auto_host_sni = true;
      tls.auto_sni_san_validation = true;
      delete (common(tls).validation_context as Json).match_typed_subject_alt_names;
    },
    // Under STRICT_DNS the fix is in the certificates; the configuration without it is the base.
    good: () => {},
  },
  {
    check: "tls-secret-not-loaded",
    severity: "error",
    // The listener's SDS file names a key that is not there.
    bad(b, certs) {
      const sds = (common(listenerTls(b)).tls_certificate_sds_secret_configs as Json[])[0] as Json;
      ((sds.sds_config as Json).path_config_source as Json).path = certs.brokenSds;
    },
    good: () => {},
  },
  {
    check: "tls-cert-expiring",
    severity: "warning",
    bad: (b, certs) => inlineListenerCert(b, certs.expiring.cert, certs.expiring.key),
    // Renewed: the set's fresh certificate, by SDS.
    good: () => {},
  },
];
