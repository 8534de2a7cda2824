/**
 * The TLS part of Envoy's v3 API that grpc-envoy-lb generates (see types.ts for the
 * conventions): transport sockets, their contexts, and the file-SDS secrets they name.
 */

/** Where an SDS secret comes from: a file of Secret resources, re-read when `watched_directory` sees a move. */
export interface SdsSecretConfig {
  name: string;
  sds_config: {
    path_config_source: { path: string; watched_directory: { path: string } };
    resource_api_version: "V3";
  };
}

export interface CommonTlsContext {
  alpn_protocols: string[];
  tls_certificate_sds_secret_configs?: SdsSecretConfig[];
  combined_validation_context?: {
    default_validation_context: {
      match_typed_subject_alt_names: { san_type: "DNS"; matcher: { exact: string } }[];
    };
    validation_context_sds_secret_config: SdsSecretConfig;
  };
}

export interface DownstreamTlsContext {
  "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
  common_tls_context: CommonTlsContext;
}

export interface UpstreamTlsContext {
  "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
  sni: string;
  common_tls_context: CommonTlsContext;
}

export interface TlsTransportSocket<C> {
  name: "envoy.transport_sockets.tls";
  typed_config: C;
}

/** A file-SDS secret: a certificate and its key, or the CAs to trust. */
export type Secret = {
  "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
  name: string;
} & (
  | {
      tls_certificate: {
        certificate_chain: { filename: string };
        private_key: { filename: string };
        watched_directory: { path: string };
      };
    }
  | { validation_context: { trusted_ca: { filename: string }; watched_directory: { path: string } } }
);

/** What a path_config_source file holds. */
export interface SdsFile {
  resources: Secret[];
}
