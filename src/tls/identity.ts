import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { messageOf, TlsError } from "../errors.js";
import { pemBlocks } from "./cert-set.js";

/** Where a TLS identity lives on disk. */
export interface IdentityFiles {
  /** PEM certificate chain, leaf first. */
  certFile: string;
  /** PEM private key of the leaf. */
  keyFile: string;
  /** PEM bundle of CAs a peer's certificate must chain to; undefined when peers are not asked for one. */
  caFile: string | undefined;
}

/** A certificate, its key and optionally a CA bundle, read and checked to belong together. */
export interface LoadedIdentity {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
  /** The leaf's serial number, upper-case hex as Node's getPeerCertificate() gives it. */
  serial: string;
  /** SHA-256 fingerprint of the leaf, colon-separated upper-case hex, as Node's fingerprint256. */
  fingerprint256: string;
  notAfter: Date;
  /** Hash of all three files' bytes, to tell a real change from a touch. */
  digest: string;
}

/**
 * Reads and checks an identity: the certificate parses, the key is the
 * certificate's, the CA bundle holds at least one certificate. Every failure
 * is one line naming the file (a missing file, not PEM, a key of another
 * certificate — the state a torn, non-atomic rewrite leaves behind).
 */
export async function loadIdentity(files: IdentityFiles): Promise<LoadedIdentity> {
  const [cert, key, ca] = await Promise.all([
    read(files.certFile, "certificate"),
    read(files.keyFile, "private key"),
    files.caFile === undefined ? undefined : read(files.caFile, "CA bundle"),
  ]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (e) {
    throw new TlsError(`${files.certFile} is not a PEM certificate (${messageOf(e)})`, { cause: e });
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new TlsError(`${files.keyFile} is not a PEM private key (${messageOf(e)})`, { cause: e });
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsError(`${files.keyFile} is not the key of ${files.certFile} (serial ${leaf.serialNumber})`);
  }
  if (ca !== undefined && files.caFile !== undefined) checkBundle(files.caFile, ca);
  const digest = createHash("sha256");
  for (const part of [cert, key, ca ?? Buffer.alloc(0)]) digest.update(part).update("\0");
  return {
    cert,
    key,
    ca,
    serial: leaf.serialNumber.toUpperCase(),
    fingerprint256: leaf.fingerprint256,
    notAfter: new Date(leaf.validTo),
    digest: digest.digest("hex"),
  };
}

function checkBundle(path: string, ca: Buffer): void {
  const blocks = pemBlocks(ca.toString("utf8"));
  if (blocks.length === 0) throw new TlsError(`${path} holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (e) {
      throw new TlsError(`${path} holds a certificate that does not parse (${messageOf(e)})`, { cause: e });
    }
  }
}

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : messageOf(e);
    throw new TlsError(`cannot read the ${what} ${path}: ${why}`, { cause: e });
  }
}
