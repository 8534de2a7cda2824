import { stat } from "node:fs/promises";
import type { experimental } from "@grpc/grpc-js";
import { messageOf } from "../errors.js";
import { type IdentityFiles, type LoadedIdentity, loadIdentity } from "./identity.js";

type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export interface CertificateReloaderOptions extends IdentityFiles {
  /** How often the files are looked at for a change (a stat of each), in ms. Default 1000. */
  pollMs?: number;
  /** Told of every reload and of every new reason a reload failed. Default: nothing. */
  onEvent?: ((event: ReloadEvent) => void) | undefined;
}

export type ReloadEvent =
  | { kind: "reloaded"; serial: string; previousSerial: string; notAfter: Date }
  | { kind: "reload-failed"; error: string; keptSerial: string };

/** Files watched for TLS identity changes, as a grpc-js CertificateProvider. */
export interface CertificateReloader {
  readonly provider: CertificateProvider;
  /** The identity served now. */
  current(): LoadedIdentity;
  /** Looks at the files now, as a poll tick does; resolves when done. */
  check(): Promise<void>;
  /** Stops polling; listeners keep the last identity. */
  stop(): void;
}

/**
 * Loads the identity once (throwing a one-line TlsError if it is unusable),
 * then polls the files. Why not grpc-js's FileWatcherCertificateProvider:
 * it hands over whatever it read, so a torn rewrite (new certificate, old
 * key) makes the server drop every new connection until the next good read;
 * and it re-applies unchanged files on every tick. Here a change is only
 * applied once the certificate, key and CA check out together; until then the
 * previous identity keeps serving. Paths are resolved on every read, so a
 * `current` symlink swap (or a kubelet Secret volume update) is followed.
 */
export async function startCertificateReloader(
  options: CertificateReloaderOptions,
): Promise<CertificateReloader> {
  const files: IdentityFiles = {
    certFile: options.certFile,
    keyFile: options.keyFile,
    caFile: options.caFile,
  };
  const pollMs = options.pollMs ?? 1000;
  const seen = await signature(files);
  let latest = await loadIdentity(files);
  let lastSignature = seen;
  let lastFailure: string | undefined;
  let inFlight: Promise<void> | undefined;
  const identityListeners = new Set<IdentityListener>();
  const caListeners = new Set<CaListener>();
  const caUpdate = () => (latest.ca === undefined ? null : { caCertificate: latest.ca });
  const identityUpdate = () => ({ certificate: latest.cert, privateKey: latest.key });

  const poll = async (): Promise<void> => {
    const now = await signature(files);
    if (now === lastSignature) return;
    let next: LoadedIdentity;
    try {
      next = await loadIdentity(files);
    } catch (e) {
      // Not recording the signature: the next tick tries again, e.g. once the key of a torn write lands.
      const error = messageOf(e);
      if (error !== lastFailure)
        options.onEvent?.({ kind: "reload-failed", error, keptSerial: latest.serial });
      lastFailure = error;
      return;
    }
    lastSignature = now;
    lastFailure = undefined;
    if (next.digest === latest.digest) return;
    const previousSerial = latest.serial;
    latest = next;
    for (const listener of identityListeners) listener(identityUpdate());
    for (const listener of caListeners) listener(caUpdate());
    options.onEvent?.({ kind: "reloaded", serial: next.serial, previousSerial, notAfter: next.notAfter });
  };
  const check = (): Promise<void> => {
    inFlight ??= poll().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const timer = setInterval(() => void check(), pollMs);
  timer.unref();

  // grpc-js registers its listener only after it has read the credentials once, so the
  // first update must come later (next tick), never from inside the add*Listener call.
  const provider: CertificateProvider = {
    addIdentityCertificateListener(listener) {
      identityListeners.add(listener);
      process.nextTick(() => identityListeners.has(listener) && listener(identityUpdate()));
    },
    removeIdentityCertificateListener(listener) {
      identityListeners.delete(listener);
    },
    addCaCertificateListener(listener) {
      caListeners.add(listener);
      process.nextTick(() => caListeners.has(listener) && listener(caUpdate()));
    },
    removeCaCertificateListener(listener) {
      caListeners.delete(listener);
    },
  };
  return { provider, current: () => latest, check, stop: () => clearInterval(timer) };
}

/** What changes when any of the files is rewritten or a symlink on its path is swapped. */
async function signature(files: IdentityFiles): Promise<string> {
  const paths = [files.certFile, files.keyFile, ...(files.caFile === undefined ? [] : [files.caFile])];
  const parts = await Promise.all(
    paths.map(async (p) => {
      try {
        const s = await stat(p);
        return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch (e) {
        return `missing:${(e as NodeJS.ErrnoException).code ?? "?"}`;
      }
    }),
  );
  return parts.join("|");
}
