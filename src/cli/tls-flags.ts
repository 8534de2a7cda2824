import { accessSync, constants } from "node:fs";
import { UsageError } from "../errors.js";
import { type ClientTls, INSECURE } from "../grpc/client-tls.js";

/** ghz's TLS flags, for parseFlags: every command that calls a gRPC server takes the same ones. */
export const CLIENT_TLS_FLAGS = {
  insecure: { type: "boolean" },
  cacert: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  cname: { type: "string" },
  skipTLS: { type: "boolean" },
} as const;

/** The help text of CLIENT_TLS_FLAGS, for a command's usage. */
export const CLIENT_TLS_USAGE = `TLS (flag names as ghz's; plaintext unless one of these but --insecure is given):
  --insecure                plaintext h2c (the default)
  --cacert FILE             TLS, trusting the CAs of FILE (PEM) instead of the system's
  --cert FILE, --key FILE   TLS with this client certificate and key (mTLS)
  --cname NAME              TLS, expecting NAME on the server's certificate and sending it as SNI
  --skipTLS                 TLS without verifying the server's certificate`;

export interface ClientTlsValues {
  insecure?: boolean | undefined;
  cacert?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  cname?: string | undefined;
  skipTLS?: boolean | undefined;
}

/**
 * The channel security ghz's flags ask for: any TLS flag means TLS; --insecure with one of
 * them, --cert without --key (or the reverse) and --skipTLS with --cacert contradict each
 * other; a file that cannot be read is named. All are UsageErrors (exit 2).
 */
export function clientTlsOf(command: string, v: ClientTlsValues): ClientTls {
  const fail = (detail: string): never => {
    throw new UsageError(`grpc-lb ${command}: ${detail}`);
  };
  const tlsFlags = (["cacert", "cert", "key", "cname", "skipTLS"] as const).filter((f) => v[f] !== undefined);
  if (v.insecure && tlsFlags.length > 0)
    fail(`--insecure is plaintext and --${tlsFlags[0]} is TLS: give one or the other`);
  if (tlsFlags.length === 0) return INSECURE;
  if ((v.cert === undefined) !== (v.key === undefined))
    fail("--cert and --key go together: a client certificate needs its key");
  if (v.skipTLS && v.cacert !== undefined)
    fail("--skipTLS verifies no server certificate, so --cacert would not be used: give one or the other");
  if (v.cname === "") fail("--cname needs a name");
  for (const flag of ["cacert", "cert", "key"] as const) {
    const file = v[flag];
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(`--${flag} ${file}: ${code === "ENOENT" ? "no such file" : `cannot be read (${code ?? e})`}`);
    }
  }
  return {
    kind: "tls",
    caFile: v.cacert,
    certFile: v.cert,
    keyFile: v.key,
    serverName: v.cname,
    skipVerify: v.skipTLS === true,
  };
}
