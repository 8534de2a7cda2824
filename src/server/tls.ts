import { experimental, ServerCredentials } from "@grpc/grpc-js";
import { messageOf, ServerError } from "../errors.js";
import { tlsHandshake } from "../tls/probe.js";
import { type CertificateReloader, type ReloadEvent, startCertificateReloader } from "../tls/reloader.js";
import { waitFor } from "../util/wait.js";

/** How a server secures its port: plaintext (the default), TLS, or TLS that requires a client certificate. */
export type ServerTls =
  | { kind: "plaintext" }
  | { kind: "tls"; certFile: string; keyFile: string; reloadMs: number }
  | { kind: "mtls"; certFile: string; keyFile: string; clientCaFile: string; reloadMs: number };

export const PLAINTEXT: ServerTls = { kind: "plaintext" };

/** Default interval of the certificate files' check, in ms. */
export const DEFAULT_TLS_RELOAD_MS = 1000;

/** The credentials to bind with and, for TLS, the reloader feeding them. */
export interface ServerSecurity {
  credentials: ServerCredentials;
  reloader: CertificateReloader | undefined;
}

/**
 * Credentials for `tls`. With TLS, the certificate files are read and checked
 * now (a one-line TlsError if they are unusable) and then followed for
 * changes, each applied to new connections only; open ones keep theirs.
 */
export async function serverSecurity(
  tls: ServerTls,
  onEvent: ((event: ReloadEvent) => void) | undefined,
): Promise<ServerSecurity> {
  if (tls.kind === "plaintext")
    return { credentials: ServerCredentials.createInsecure(), reloader: undefined };
  const reloader = await startCertificateReloader({
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    caFile: tls.kind === "mtls" ? tls.clientCaFile : undefined,
    pollMs: tls.reloadMs,
    onEvent,
  });
  // grpc-js 1.14 names these parameters (ca, identity), but its constructor takes them
  // as (identity, ca): the identity goes first, and a null CA means no client certificate is asked.
  const credentials = experimental.createCertificateProviderServerCredentials(
    reloader.provider,
    tls.kind === "mtls" ? reloader.provider : null,
    tls.kind === "mtls",
  );
  return { credentials, reloader };
}

/**
 * Waits until a TLS handshake on the bound port shows the loaded certificate:
 * grpc-js reads a provider's first update asynchronously and drops every
 * connection until then, so "bound" is not yet "serving".
 */
export async function waitPresentsCertificate(
  host: string,
  port: number,
  reloader: CertificateReloader,
  timeoutMs = 10_000,
): Promise<void> {
  let last = "no handshake yet";
  await waitFor(
    `${host}:${port} to present its certificate`,
    async () => {
      try {
        const shown = await tlsHandshake({ host, port, timeoutMs });
        if (shown.fingerprint256 === reloader.current().fingerprint256) return true;
        last = `serial ${shown.serial}, loaded ${reloader.current().serial}`;
      } catch (e) {
        last = messageOf(e);
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 20 },
    () => last,
  ).catch((e: unknown) => {
    throw new ServerError(messageOf(e), { cause: e });
  });
}
