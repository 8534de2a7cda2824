import { mkdir, open, readdir, readFile, readlink, rename, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { errorFrom, messageOf, TlsError } from "../errors.js";
import type { LeafSpec } from "./issue.js";

/*
 * On-disk layout of a certificate set, the one rotation relies on:
 *
 *   DIR/current -> v2        relative symlink; replaced by rename(2), never rewritten
 *   DIR/v1/ …                the previous version, kept for readers still in it
 *   DIR/v2/manifest.json     what the version holds (CertsManifest)
 *   DIR/v2/ca.crt            trust bundle: every CA trusted now, the issuing one first
 *   DIR/v2/ca.key            the issuing CA's private key (0600, or 0640: keysGroupReadable)
 *   DIR/v2/NAME.crt, NAME.key  one pair per leaf (keys as ca.key)
 *
 * A version is written in full under a temporary name, renamed into place, and
 * only then does `current` move to it, so a reader that resolves `current` sees
 * a whole version or the previous one, never a mix. kubelet lays out a Secret
 * volume the same way (`..data -> ..2026_01_01_…`).
 */

export const CURRENT = "current";
export const MANIFEST = "manifest.json";
/** Versions kept besides the current one, for readers that resolved `current` just before a swap. */
const KEEP_PREVIOUS = 1;
const VERSION_DIR = /^v(\d+)$/;

/** What a leaf file pair holds, as recorded in the manifest. */
export interface LeafRecord extends LeafSpec {
  serial: string;
  notAfter: string;
}

export interface CaRecord {
  commonName: string;
  serial: string;
  notAfter: string;
}

export interface CertsManifest {
  format: 1;
  /** N of the vN directory. */
  version: number;
  createdAt: string;
  /** What made this version from the previous one. */
  change: "created" | "leaves" | "ca" | "retire-old-ca";
  leafDays: number;
  caDays: number;
  /** The CAs in ca.crt, in file order; the first one issues new leaves and its key is ca.key. */
  cas: CaRecord[];
  /**
   * Keys 0640 instead of 0600: readable by the files' group too, for readers that run as
   * another user and join that group (containers: Compose's group_add). Absent: false.
   */
  keysGroupReadable?: boolean;
  leaves: LeafRecord[];
}

/** One file of a version: its name inside vN/ and its text; secret files are written 0600 (0640, see keysGroupReadable). */
export interface VersionFile {
  name: string;
  text: string;
  secret: boolean;
}

/** The version `DIR/current` points to, or undefined when DIR holds no set. */
export async function currentVersion(dir: string): Promise<number | undefined> {
  let target: string;
  try {
    target = await readlink(join(dir, CURRENT));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw errorFrom(TlsError, e, `cannot read ${join(dir, CURRENT)}`);
  }
  const m = VERSION_DIR.exec(target);
  if (!m)
    throw new TlsError(`${join(dir, CURRENT)} points to '${target}', not to a vN directory of this layout`);
  return Number(m[1]);
}

/** The manifest and a reader of the files of the current version. */
export async function readCurrent(
  dir: string,
): Promise<{ manifest: CertsManifest; read: (name: string) => Promise<string> }> {
  const version = await currentVersion(dir);
  if (version === undefined) throw new TlsError(`${dir} holds no certificates (no ${CURRENT} link)`);
  const base = join(dir, `v${version}`);
  const read = async (name: string): Promise<string> => {
    try {
      return await readFile(join(base, name), "utf8");
    } catch (e) {
      throw errorFrom(TlsError, e, `cannot read ${join(base, name)}`);
    }
  };
  let manifest: CertsManifest;
  try {
    manifest = JSON.parse(await read(MANIFEST)) as CertsManifest;
  } catch (e) {
    throw errorFrom(TlsError, e, `${join(base, MANIFEST)} is not a manifest of this tool`);
  }
  if (manifest.format !== 1) throw new TlsError(`${join(base, MANIFEST)}: unknown format ${manifest.format}`);
  return { manifest, read };
}

/** The version number the next write will take: one past every vN present. */
export async function nextVersion(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const taken = names.map((n) => VERSION_DIR.exec(n)?.[1]).filter((n) => n !== undefined);
  return Math.max(0, ...taken.map(Number), (await currentVersion(dir)) ?? 0) + 1;
}

/**
 * Writes `files` as version `manifest.version` and points `current` at it:
 * temp dir, fsync, rename to vN, then a temp symlink renamed over `current`.
 * Older versions beyond the previous one are removed afterwards.
 */
export async function writeVersion(
  dir: string,
  manifest: CertsManifest,
  files: VersionFile[],
): Promise<string> {
  const name = `v${manifest.version}`;
  const staging = join(dir, `.${name}.tmp-${process.pid}`);
  const link = join(dir, `.${CURRENT}.tmp-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { mode: 0o755 });
    const all = [...files, { name: MANIFEST, text: `${JSON.stringify(manifest, null, 2)}\n`, secret: false }];
    const secretMode = manifest.keysGroupReadable === true ? 0o640 : 0o600;
    for (const f of all) await writeDurably(join(staging, f.name), f.text, f.secret ? secretMode : 0o644);
    await syncDir(staging);
    await rename(staging, join(dir, name));
    await rm(link, { force: true });
    await symlink(name, link);
    await rename(link, join(dir, CURRENT));
    await syncDir(dir);
  } catch (e) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    await rm(link, { force: true }).catch(() => undefined);
    throw new TlsError(`cannot write ${join(dir, name)}: ${messageOf(e)}`, { cause: e });
  }
  await prune(dir, manifest.version);
  return join(dir, name);
}

async function prune(dir: string, current: number): Promise<void> {
  for (const entry of await readdir(dir)) {
    const n = Number(VERSION_DIR.exec(entry)?.[1] ?? Number.NaN);
    if (n < current - KEEP_PREVIOUS) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

async function writeDurably(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, "wx", mode);
  try {
    await handle.writeFile(text);
    // The umask may have narrowed the mode; a key must end up exactly 0600 (or 0640).
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
