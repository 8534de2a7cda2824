import { randomBytes, webcrypto } from "node:crypto";
import { errorFrom, TlsError } from "../errors.js";
import { x509 } from "./x509.js";

type CryptoKey = webcrypto.CryptoKey;

/** ECDSA P-256 with SHA-256: small, fast, and what Envoy and Node negotiate by default. */
const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** Certificates start this long before "now", in ms, so a peer whose clock is a little behind accepts them. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

/** Who presents a leaf: a TLS server (Envoy's listener, a gRPC server) or a TLS client (Envoy towards servers). */
export type LeafUsage = "server" | "client";

/** What one leaf certificate says about its holder. */
export interface LeafSpec {
  /** File name without extension: NAME.crt and NAME.key. */
  name: string;
  usage: LeafUsage;
  commonName: string;
  /** DNS subject alternative names, in order. */
  dnsNames: string[];
  /** IP subject alternative names, in order. */
  ipAddresses: string[];
}

/** A certificate and its private key as PEM text, with what a listing shows of it. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** Serial number as upper-case hex, the way Node's X509Certificate and openssl print it. */
  serial: string;
  notAfter: Date;
}

/** A CA that can sign: its certificate and private key. */
export interface SigningCa {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

export interface Validity {
  /** Days from now until the certificate expires. */
  days: number;
  /** The moment "now" stands for. Default: the current time. */
  now?: Date;
}

/** A fresh CA: self-signed, allowed to sign leaves only (path length 0). */
export async function createCa(
  commonName: string,
  validity: Validity,
): Promise<{ issued: IssuedCertificate; signer: SigningCa }> {
  const keys = await newKeyPair();
  const { notBefore, notAfter } = period(validity);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: nameOf(commonName),
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { issued: await issued(cert, keys.privateKey), signer: { cert, key: keys.privateKey } };
}

/** A leaf signed by `ca` with the names of `spec`. */
export async function issueLeaf(
  ca: SigningCa,
  spec: LeafSpec,
  validity: Validity,
): Promise<IssuedCertificate> {
  const keys = await newKeyPair();
  const { notBefore, notAfter } = period(validity);
  const usage = spec.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
  const names = [
    ...spec.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...spec.ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: nameOf(spec.commonName),
    issuer: ca.cert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage], false),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return issued(cert, keys.privateKey);
}

/** A CA read back from its PEM certificate and PKCS#8 key, to sign more leaves. */
export async function loadCa(certPem: string, keyPem: string): Promise<SigningCa> {
  try {
    const cert = new x509.X509Certificate(certPem);
    const der = x509.PemConverter.decodeFirst(keyPem);
    const key = await webcrypto.subtle.importKey("pkcs8", der, EC_P256, true, ["sign"]);
    return { cert, key };
  } catch (e) {
    throw errorFrom(TlsError, e, "cannot read the CA's certificate and key (ECDSA P-256 PKCS#8 expected)");
  }
}

function newKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
}

/** 128 random bits, kept positive (DER integers are signed) and non-zero in the first byte. */
function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 1) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function period(validity: Validity): { notBefore: Date; notAfter: Date } {
  const now = (validity.now ?? new Date()).getTime();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + validity.days * DAY_MS) };
}

/** A subject with one common name; commas and such are escaped by building it as JSON, not as a string. */
function nameOf(commonName: string): x509.JsonName {
  return [{ CN: [commonName] }];
}

async function issued(cert: x509.X509Certificate, key: CryptoKey): Promise<IssuedCertificate> {
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", key);
  return {
    certPem: `${cert.toString("pem")}\n`,
    keyPem: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`,
    serial: cert.serialNumber.toUpperCase(),
    notAfter: cert.notAfter,
  };
}
