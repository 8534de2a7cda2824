import { join } from "node:path";
import { certFile, keyFile } from "../tls/cert-set.js";
import { CURRENT } from "../tls/layout.js";
import { CA_NAME, ENVOY_CLIENT, ENVOY_LISTENER } from "../tls/plan.js";
import type { EnvoyTlsOptions } from "./options.js";
import type {
  DownstreamTlsContext,
  SdsFile,
  SdsSecretConfig,
  Secret,
  TlsTransportSocket,
  UpstreamTlsContext,
} from "./tls-types.js";

/** The secrets Envoy loads by file SDS, each from its own file in `sdsDir`. */
export const SDS_SECRETS = {
  /** The listener's certificate, shown to clients. */
  listener: "listener_cert",
  /** Envoy's client certificate, shown to servers that ask (mTLS). */
  client: "client_cert",
  /** The CAs whose servers Envoy trusts. */
  serverCa: "server_ca",
} as const;

/** ALPN offered to clients: h2 for gRPC (strict clients such as grpcio and grpc-go need it), http/1.1 for the rest. */
export const DOWNSTREAM_ALPN = ["h2", "http/1.1"];
/**
 * ALPN offered to servers. Envoy's pools would add h2 to data connections by themselves,
 * but health-check connections carry only what is set here and in the check's tls_options:
 * without it a grpc-js server drops them and every host turns unhealthy.
 */
export const UPSTREAM_ALPN = ["h2"];

const sdsFileName = (secret: string): string => `${secret}.yaml`;

function sdsConfig(o: EnvoyTlsOptions, secret: string): SdsSecretConfig {
  return {
    name: secret,
    sds_config: {
      // A swap of `current` is a move in certsDir: Envoy re-reads the secret and the files it names.
      path_config_source: {
        path: join(o.sdsDir, sdsFileName(secret)),
        watched_directory: { path: o.certsDir },
      },
      resource_api_version: "V3",
    },
  };
}

export function downstreamTls(o: EnvoyTlsOptions): TlsTransportSocket<DownstreamTlsContext> {
  return {
    name: "envoy.transport_sockets.tls",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
      common_tls_context: {
        alpn_protocols: DOWNSTREAM_ALPN,
        tls_certificate_sds_secret_configs: [sdsConfig(o, SDS_SECRETS.listener)],
      },
    },
  };
}

/**
 * TLS to the servers. Under STRICT_DNS every host's hostname is the resolved name, so the
 * one name that can be checked is that shared name: it is the SNI, and a DNS SAN every
 * server's certificate must carry.
 */
export function upstreamTls(o: EnvoyTlsOptions, serverHost: string): TlsTransportSocket<UpstreamTlsContext> {
  const sharedName = serverHost.replace(/\.$/, "");
  return {
    name: "envoy.transport_sockets.tls",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
      sni: sharedName,
      common_tls_context: {
        alpn_protocols: UPSTREAM_ALPN,
        ...(o.mtls ? { tls_certificate_sds_secret_configs: [sdsConfig(o, SDS_SECRETS.client)] } : {}),
        combined_validation_context: {
          default_validation_context: {
            match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: sharedName } }],
          },
          validation_context_sds_secret_config: sdsConfig(o, SDS_SECRETS.serverCa),
        },
      },
    },
  };
}

/**
 * The SDS files the config names, by file name inside `sdsDir`: each points into
 * `certsDir/current/`, the layout `grpc-lb certs` writes and rotates, or right into certsDir
 * when it is a Kubernetes Secret volume (certsLayout flat).
 */
export function buildSdsFiles(o: EnvoyTlsOptions): Record<string, SdsFile> {
  const current = o.certsLayout === "flat" ? o.certsDir : join(o.certsDir, CURRENT);
  const watched = { path: o.certsDir };
  const type = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret" as const;
  const certificate = (name: string, leaf: string): Secret => ({
    "@type": type,
    name,
    tls_certificate: {
      certificate_chain: { filename: join(current, certFile(leaf)) },
      private_key: { filename: join(current, keyFile(leaf)) },
      watched_directory: watched,
    },
  });
  const secrets: Secret[] = [
    certificate(SDS_SECRETS.listener, ENVOY_LISTENER),
    ...(o.mtls ? [certificate(SDS_SECRETS.client, ENVOY_CLIENT)] : []),
    {
      "@type": type,
      name: SDS_SECRETS.serverCa,
      validation_context: {
        trusted_ca: { filename: join(current, certFile(CA_NAME)) },
        watched_directory: watched,
      },
    },
  ];
  return Object.fromEntries(secrets.map((s) => [sdsFileName(s.name), { resources: [s] }]));
}

/** The CA file a client of the listener should trust. */
export const trustedCaFile = (certsDir: string): string => join(certsDir, CURRENT, certFile(CA_NAME));
