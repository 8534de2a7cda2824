import { join } from "node:path";
import { composeTlsPreset } from "../../deploy/presets.js";
import { EngineError } from "../../errors.js";
import { type ClientTls, tlsTrusting } from "../../grpc/client-tls.js";
import { CURRENT } from "../../tls/layout.js";
import { CA_NAME, LOOPBACK_DNS } from "../../tls/plan.js";
import type { ComposeContainer } from "./project.js";

/** Where deploy/compose/compose.tls.yaml mounts the certificate set in Envoy's container (the preset's). */
export const ENVOY_CERTS_MOUNT = (() => {
  const tls = composeTlsPreset.envoy.tls;
  if (!tls) throw new EngineError("compose: the compose-tls preset has no TLS");
  return tls.certsDir;
})();
/** The file names the TLS variant uses in the set (compose.tls.yaml, `grpc-lb certs --server-name server`). */
export const SERVER_LEAF = "server";

/** The running cluster's TLS, as this process reaches it. */
export interface ComposeTls {
  /** The certificate set's directory on this machine (the mount's source): what rotation writes. */
  certsDir: string;
  /** How this process calls Envoy's published listener: TLS trusting the set's current CAs. */
  client: ClientTls;
  /** The set's current trust bundle, read afresh by each probe (it changes during a CA rotation). */
  caFile: string;
}

/**
 * Which variant runs, read from Envoy's container rather than assumed: the TLS one
 * mounts a certificate set at /etc/envoy/certs. Undefined: the plaintext one.
 */
export function composeTlsOf(envoy: ComposeContainer): ComposeTls | undefined {
  const mount = envoy.mounts.find((m) => m.destination === ENVOY_CERTS_MOUNT);
  if (mount === undefined) return undefined;
  if (mount.source === "")
    throw new EngineError(`compose: ${envoy.name} mounts ${ENVOY_CERTS_MOUNT} from no host directory`);
  const caFile = join(mount.source, CURRENT, `${CA_NAME}.crt`);
  // The published address is 127.0.0.1, which is no SNI (RFC 6066): localhost, which the
  // listener's certificate names too, is sent and checked instead.
  return { certsDir: mount.source, client: tlsTrusting(caFile, { serverName: LOOPBACK_DNS[0] }), caFile };
}

/** `current/NAME` of the set, on this machine. */
export const currentFile = (tls: ComposeTls, name: string): string => join(tls.certsDir, CURRENT, name);
