import { TlsError } from "../errors.js";
import type { IssuedCertificate, LeafSpec } from "./issue.js";
import {
  type CaRecord,
  type CertsManifest,
  type LeafRecord,
  nextVersion,
  readCurrent,
  type VersionFile,
  writeVersion,
} from "./layout.js";
import { CA_NAME } from "./plan.js";

/** A certificate set in memory: what one version directory holds. */
export interface CertSet {
  /** The trust bundle, in ca.crt order; the first CA issues new leaves. */
  cas: { record: CaRecord; certPem: string }[];
  /** The issuing CA's private key. */
  caKeyPem: string;
  leaves: { record: LeafRecord; certPem: string; keyPem: string }[];
  leafDays: number;
  caDays: number;
  /** Keys readable by the files' group (0640), kept by every rotation: CertsManifest.keysGroupReadable. */
  keysGroupReadable: boolean;
}

/** What a write produced, for the CLI's summary. */
export interface WrittenSet {
  /** The version directory written (DIR/vN). */
  path: string;
  manifest: CertsManifest;
  elapsedMs: number;
}

export const certFile = (name: string): string => `${name}.crt`;
export const keyFile = (name: string): string => `${name}.key`;

export const leafRecord = (spec: LeafSpec, issued: IssuedCertificate): LeafRecord => ({
  ...spec,
  serial: issued.serial,
  notAfter: issued.notAfter.toISOString(),
});

/** Writes `set` as the next version of `dir` and makes it current. */
export async function writeSet(
  dir: string,
  set: CertSet,
  change: CertsManifest["change"],
  startedAt: number,
): Promise<WrittenSet> {
  if (set.cas.length === 0) throw new TlsError("a certificate set needs a CA");
  const manifest: CertsManifest = {
    format: 1,
    version: await nextVersion(dir),
    createdAt: new Date().toISOString(),
    change,
    leafDays: set.leafDays,
    caDays: set.caDays,
    cas: set.cas.map((c) => c.record),
    leaves: set.leaves.map((l) => l.record),
    ...(set.keysGroupReadable ? { keysGroupReadable: true } : {}),
  };
  const files: VersionFile[] = [
    { name: certFile(CA_NAME), text: set.cas.map((c) => c.certPem).join(""), secret: false },
    { name: keyFile(CA_NAME), text: set.caKeyPem, secret: true },
    ...set.leaves.flatMap((l) => [
      { name: certFile(l.record.name), text: l.certPem, secret: false },
      { name: keyFile(l.record.name), text: l.keyPem, secret: true },
    ]),
  ];
  const path = await writeVersion(dir, manifest, files);
  return { path, manifest, elapsedMs: Math.round(performance.now() - startedAt) };
}

/** The set `DIR/current` points to. */
export async function readSet(dir: string): Promise<CertSet> {
  const { manifest, read } = await readCurrent(dir);
  const bundle = pemBlocks(await read(certFile(CA_NAME)));
  if (bundle.length !== manifest.cas.length) {
    throw new TlsError(
      `${dir}: ${certFile(CA_NAME)} holds ${bundle.length} certificates, the manifest lists ${manifest.cas.length}`,
    );
  }
  return {
    cas: manifest.cas.map((record, i) => ({ record, certPem: bundle[i] ?? "" })),
    caKeyPem: await read(keyFile(CA_NAME)),
    leaves: await Promise.all(
      manifest.leaves.map(async (record) => ({
        record,
        certPem: await read(certFile(record.name)),
        keyPem: await read(keyFile(record.name)),
      })),
    ),
    leafDays: manifest.leafDays,
    caDays: manifest.caDays,
    keysGroupReadable: manifest.keysGroupReadable === true,
  };
}

/** Every PEM certificate block of a text, each ending in a newline. */
export function pemBlocks(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map(
    (m) => `${m[0]}\n`,
  );
}
