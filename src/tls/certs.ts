import { TlsError } from "../errors.js";
import { type CertSet, leafRecord, type WrittenSet, writeSet } from "./cert-set.js";
import { createCa, issueLeaf } from "./issue.js";
import { currentVersion } from "./layout.js";
import { type CertsOptions, planLeaves, resolveCertsOptions } from "./plan.js";

/** Common name of the CAs this tool makes; the date tells two generations apart. */
export const caCommonName = (now: Date): string => `grpc-lb lab CA ${now.toISOString().slice(0, 19)}Z`;

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
  const ca = await createCa(caCommonName(now), { days: o.caDays, now });
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
          commonName: caCommonName(now),
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
  };
  return writeSet(dir, set, "created", startedAt);
}
