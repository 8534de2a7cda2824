import { arr, type Json, str } from "./json.js";

/** One certificate that Envoy's /certs lists: one it presents (a chain) or one it trusts (a CA). */
export interface CertView {
  kind: "cert_chain" | "ca_cert";
  /** Where Envoy read it: a file's path, "<inline>", or an SDS secret's name. */
  path: string;
  serial: string;
  /** Whole days left, as Envoy counts them (the least over the chain); negative or 0 once expired. */
  daysLeft: number;
  /** When it became valid and when it expires, in ms since the epoch; NaN when /certs has no such field. */
  validFromMs: number;
  expiresMs: number;
}

/** The certificates of /certs (envoy.admin.v3.Certificates), each chain's and CA's entries in turn. */
export function certsFrom(certsJson: Json): CertView[] {
  return arr(certsJson.certificates).flatMap((c) =>
    (["cert_chain", "ca_cert"] as const).flatMap((kind) =>
      arr(c[kind]).map(
        (d): CertView => ({
          kind,
          path: str(d.path) ?? "",
          serial: str(d.serial_number) ?? "",
          daysLeft: Number(d.days_until_expiration ?? 0),
          validFromMs: Date.parse(str(d.valid_from) ?? ""),
          expiresMs: Date.parse(str(d.expiration_time) ?? ""),
        }),
      ),
    ),
  );
}
