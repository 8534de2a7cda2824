import { readFile } from "node:fs/promises";
import type { EnvoyAdmin } from "../../envoy/admin.js";
import { LOOPBACK_DNS } from "../../tls/plan.js";
import { tlsHandshake } from "../../tls/probe.js";
import type { LabCluster } from "../cluster.js";
import { SERVER_NAME } from "../lab-envoy.js";
import type { LabTls } from "../lab-tls.js";
import type { LabServer } from "../servers.js";

/** A probe's deadline, in ms: a handshake on loopback takes a few. */
const PROBE_TIMEOUT_MS = 1000;

/** A serial as certificates and manifests spell it differently: upper-case hex, no leading zeros. */
export const sameSerial = (a: string, b: string): boolean =>
  a.toUpperCase().replace(/^0+/, "") === b.toUpperCase().replace(/^0+/, "");

/** What one handshake showed: the serial, and whether it chains to the CAs trusted now. */
export interface WireCertificate {
  serial: string;
  trusted: boolean;
}

/**
 * The certificate Envoy's listener shows a new connection now, checked against the
 * trust bundle of now (read afresh: it changes during a CA rotation).
 */
export async function listenerCertificate(lab: LabCluster, tls: LabTls): Promise<WireCertificate> {
  const r = await tlsHandshake({
    host: "127.0.0.1",
    port: lab.envoy.listenerPort,
    servername: LOOPBACK_DNS[0],
    ca: await readFile(tls.caFile),
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return { serial: r.serial, trusted: r.authorized };
}

/**
 * The certificate a server shows a new connection now, as Envoy reaches it (SNI 'server')
 * and, under mTLS, with Envoy's client certificate of now, so the server lets it in.
 */
export async function serverCertificate(server: LabServer, tls: LabTls): Promise<WireCertificate> {
  const mtls = tls.kind === "mtls";
  const r = await tlsHandshake({
    host: server.host,
    port: server.port,
    servername: SERVER_NAME,
    ca: await readFile(tls.caFile),
    cert: mtls ? await readFile(tls.envoyClient.certFile) : undefined,
    key: mtls ? await readFile(tls.envoyClient.keyFile) : undefined,
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return { serial: r.serial, trusted: r.authorized };
}

interface CertsJson {
  certificates?: { cert_chain?: { serial_number?: string }[] }[];
}

/**
 * Serials of the certificates Envoy holds to present (listener and client contexts), from
 * its admin /certs. A client certificate shows on the wire only to a server, which does
 * not report it: this is what Envoy will present on its next upstream connection.
 */
export async function envoyPresentedSerials(admin: EnvoyAdmin): Promise<string[]> {
  const body = JSON.parse(await admin.send("/certs")) as CertsJson;
  return (body.certificates ?? []).flatMap((c) =>
    (c.cert_chain ?? []).map((cert) => cert.serial_number ?? "").filter((s) => s !== ""),
  );
}

/** Envoy's ssl_context_update_by_sds: TLS contexts rebuilt from an SDS secret, listener and cluster side. */
export interface SdsUpdates {
  listener: number;
  cluster: number;
}

/** Sums every `…ssl_context_update_by_sds` counter of /stats by side (listener.* or cluster.*). */
export async function sdsUpdates(admin: EnvoyAdmin): Promise<SdsUpdates> {
  const text = await admin.send("/stats?filter=ssl_context_update_by_sds");
  const sum = { listener: 0, cluster: 0 };
  for (const m of text.matchAll(/^(listener|cluster)\.\S*ssl_context_update_by_sds: (\d+)$/gm)) {
    sum[m[1] as keyof SdsUpdates] += Number(m[2]);
  }
  return sum;
}
