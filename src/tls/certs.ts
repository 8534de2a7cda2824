import { randomBytes } from "node:crypto";
import { TlsError } from "../errors.js";
import { type CertSet, leafRecord, type WrittenSet, writeSet } from "./cert-set.js";
import { createCa, issueLeaf } from "./issue.js";
import { currentVersion } from "./layout.js";
import { type CertsOptions, planLeaves, resolveCertsOptions } from "./plan.js";

/**
 * Common name of a CA this tool makes. Two CAs of one bundle must not share a
 * subject (a verifier picks the issuer by name first), so each gets a random tag.
 */
export const caCommonName = (now: Date): string =>
  `grpc-lb lab CA ${now.toISOString().slice(0, 10)} ${randomBytes(4).toString("hex")}`;

/**
 * Makes a new set in `dir` (a CA, Envoy's listener and client certificates,
 * one per server) as version 1 with `current` pointing to it. Refuses a
 * directory that already holds a set: that is what rotation is for.
 */
export async function createCertificates(dir: string, options: CertsOptions = {}): Promise<WrittenSet> {
  const startedAt = performance.now();
  const o = resolveCertsOptions(options);
  const existing = await currentVersion(dir);
  if (existing !== undefined) {
    throw new TlsError(`${dir} already holds certificates (current -> v${existing}); rotate them instead`);
  }
  const now = new Date();
  const commonName = caCommonName(now);
  const ca = await createCa(commonName, { days: o.caDays, now });
  const leaves = await Promise.all(
    planLeaves(o).map(async (spec) => {
      const issued = await issueLeaf(ca.signer, spec, { days: o.leafDays, now });
      return { record: leafRecord(spec, issued), certPem: issued.certPem, keyPem: issued.keyPem };
    }),
  );
  const set: CertSet = {
    cas: [
      {
        record: {
          commonName,
          serial: ca.issued.serial,
          notAfter: ca.issued.notAfter.toISOString(),
        },
        certPem: ca.issued.certPem,
      },
    ],
    caKeyPem: ca.issued.keyPem,
    leaves,
    leafDays: o.leafDays,
    caDays: o.caDays,
    keysGroupReadable: o.keysGroupReadable,
  };
  return writeSet(dir, set, "created", startedAt);
}
