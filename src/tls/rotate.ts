import { X509Certificate } from "node:crypto";
import { TlsError } from "../errors.js";
import { type CertSet, leafRecord, readSet, type WrittenSet, writeSet } from "./cert-set.js";
import { caCommonName } from "./certs.js";
import { createCa, issueLeaf, loadCa } from "./issue.js";

/**
 * One step of rotation, each written as a new version:
 * - `leaves`: new leaves (all, or those named) from the issuing CA; trust unchanged.
 * - `ca`: a new CA becomes the issuer and joins the trust bundle beside the old one;
 *   leaves unchanged, so they stay trusted while every party loads the bundle.
 * - `retire-old-ca`: the bundle keeps only the issuing CA, once every leaf is from it.
 * A CA change is thus `ca`, then `leaves`, then `retire-old-ca`, each loaded
 * everywhere before the next.
 */
export type RotationKind = "leaves" | "ca" | "retire-old-ca";
export const ROTATION_KINDS: readonly RotationKind[] = ["leaves", "ca", "retire-old-ca"];

export interface RotateOptions {
  /** With `leaves`: only these leaves get new certificates. Default: every leaf. */
  only?: string[] | undefined;
  /** Validity of new leaves, in days. Default: the set's own (its manifest's leafDays). */
  leafDays?: number | undefined;
}

export async function rotateCertificates(
  dir: string,
  kind: RotationKind,
  options: RotateOptions = {},
): Promise<WrittenSet> {
  const startedAt = performance.now();
  return writeSet(dir, await rotatedSet(await readSet(dir), kind, options), kind, startedAt);
}

/** The set one rotation step makes of `set`, in memory: what rotateCertificates writes. */
export async function rotatedSet(
  set: CertSet,
  kind: RotationKind,
  options: RotateOptions = {},
): Promise<CertSet> {
  switch (kind) {
    case "leaves":
      return newLeaves(set, options);
    case "ca":
      return newCa(set);
    case "retire-old-ca":
      return retireOldCas(set);
  }
}

async function newLeaves(set: CertSet, options: RotateOptions): Promise<CertSet> {
  const names = set.leaves.map((l) => l.record.name);
  const unknown = options.only?.find((n) => !names.includes(n));
  if (unknown !== undefined)
    throw new TlsError(`no leaf '${unknown}' in the set (it has ${names.join(", ")})`);
  const issuer = set.cas[0];
  if (issuer === undefined) throw new TlsError("the set has no CA");
  const ca = await loadCa(issuer.certPem, set.caKeyPem);
  const days = options.leafDays ?? set.leafDays;
  const leaves = await Promise.all(
    set.leaves.map(async (leaf) => {
      if (options.only !== undefined && !options.only.includes(leaf.record.name)) return leaf;
      const { serial: _serial, notAfter: _notAfter, ...spec } = leaf.record;
      const issued = await issueLeaf(ca, spec, { days });
      return { record: leafRecord(spec, issued), certPem: issued.certPem, keyPem: issued.keyPem };
    }),
  );
  return { ...set, leaves, leafDays: days };
}

async function newCa(set: CertSet): Promise<CertSet> {
  const now = new Date();
  const commonName = caCommonName(now);
  const ca = await createCa(commonName, { days: set.caDays, now });
  const record = { commonName, serial: ca.issued.serial, notAfter: ca.issued.notAfter.toISOString() };
  return { ...set, cas: [{ record, certPem: ca.issued.certPem }, ...set.cas], caKeyPem: ca.issued.keyPem };
}

function retireOldCas(set: CertSet): CertSet {
  const [issuer, ...old] = set.cas;
  if (issuer === undefined || old.length === 0)
    throw new TlsError("the set trusts one CA only: nothing to retire");
  const issuerCert = new X509Certificate(issuer.certPem);
  const stale = set.leaves.filter((l) => !issuedBy(new X509Certificate(l.certPem), issuerCert));
  if (stale.length > 0) {
    throw new TlsError(
      `${stale.map((l) => l.record.name).join(", ")} still chain to the old CA; rotate the leaves first`,
    );
  }
  return { ...set, cas: [issuer] };
}

const issuedBy = (leaf: X509Certificate, ca: X509Certificate): boolean =>
  leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
