import { readFileSync } from "node:fs";
import { type ChannelCredentials, type ChannelOptions, credentials } from "@grpc/grpc-js";
import { messageOf, UsageError } from "../errors.js";

/**
 * How a client channel is secured, as ghz's flags say it: plaintext (--insecure, the
 * default), or TLS with an optional CA to trust (--cacert), a client certificate for mTLS
 * (--cert/--key), a server name to expect (--cname), or no verification at all (--skipTLS).
 * Plain data: it crosses to worker threads as it is, and each thread reads the files itself.
 */
export type ClientTls =
  | { kind: "insecure" }
  | {
      kind: "tls";
      /** PEM file of the CAs to trust; undefined trusts Node's built-in roots. */
      caFile: string | undefined;
      /** PEM client certificate and its key, presented when the server asks (mTLS). */
      certFile: string | undefined;
      keyFile: string | undefined;
      /** Name sent as SNI and checked on the server's certificate instead of the target's host. */
      serverName: string | undefined;
      /** Accept any server certificate (encrypted, not authenticated). */
      skipVerify: boolean;
    };

export const INSECURE: ClientTls = { kind: "insecure" };

/** TLS trusting `caFile`, optionally expecting `serverName` and presenting a client certificate. */
export const tlsTrusting = (
  caFile: string,
  more: { serverName?: string; client?: { certFile: string; keyFile: string } } = {},
): ClientTls => ({
  kind: "tls",
  caFile,
  certFile: more.client?.certFile,
  keyFile: more.client?.keyFile,
  serverName: more.serverName,
  skipVerify: false,
});

/** The PEM files `tls` names, read; a file that cannot be read is a one-line UsageError naming its flag. */
export function readTlsFiles(tls: Extract<ClientTls, { kind: "tls" }>): {
  ca: Buffer | null;
  key: Buffer | null;
  cert: Buffer | null;
} {
  const read = (flag: string, file: string | undefined): Buffer | null => {
    if (file === undefined) return null;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new UsageError(`${flag} ${file}: cannot read it (${messageOf(e)})`, { cause: e });
    }
  };
  return {
    ca: read("--cacert", tls.caFile),
    key: read("--key", tls.keyFile),
    cert: read("--cert", tls.certFile),
  };
}

/** grpc-js credentials for `tls` (see readTlsFiles). */
export function channelCredentials(tls: ClientTls): ChannelCredentials {
  if (tls.kind === "insecure") return credentials.createInsecure();
  const { ca, key, cert } = readTlsFiles(tls);
  return credentials.createSsl(
    ca,
    key,
    cert,
    tls.skipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

/** Channel options `tls` needs: with a server name, grpc-js sends it as SNI and :authority and checks it. */
export function tlsChannelOptions(tls: ClientTls): ChannelOptions {
  if (tls.kind === "insecure" || tls.serverName === undefined) return {};
  return { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName };
}

/** "plaintext", "TLS", "mTLS": for messages. */
export const describeClientTls = (tls: ClientTls): string =>
  tls.kind === "insecure" ? "plaintext" : tls.certFile === undefined ? "TLS" : "mTLS";
