import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { messageOf, PeerError } from "../errors.js";
import type { PeerDriver } from "./driver.js";

export interface PeerBinary {
  path: string;
  /** The version it reports, e.g. "2.6.12". */
  version: string;
}

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** Where Debian puts them, off a normal user's PATH. */
const SBIN = ["/usr/sbin", "/sbin"];

/** The executable on PATH, then in /usr/sbin and /sbin; undefined when there is none. */
export function locatePeer(driver: PeerDriver, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? "").split(delimiter), ...SBIN].filter((d) => d !== "");
  return dirs.map((d) => join(d, driver.executable)).find(isExecutable);
}

/** What to do when it is missing: the make target, and what it needs to be allowed to install. */
export function peerNotFoundMessage(driver: PeerDriver): string {
  return (
    `${driver.title} is not installed (no '${driver.executable}' on PATH or in /usr/sbin). ` +
    `Run 'make peers': it installs Debian's ${driver.debianPackage} with apt-get as root where installing ` +
    `is allowed (CI=true or GRPC_LB_ALLOW_INSTALL=1), without starting its system service; ` +
    `or install it yourself (apt-get install ${driver.debianPackage})`
  );
}

/** Finds the binary and asks its version; a clear PeerError when it is missing or does not run. */
export async function findPeer(driver: PeerDriver): Promise<PeerBinary> {
  const path = locatePeer(driver);
  if (path === undefined) throw new PeerError(peerNotFoundMessage(driver));
  try {
    // nginx prints its version on stderr, HAProxy on stdout.
    const { stdout, stderr } = await promisify(execFile)(path, driver.versionArgs, { timeout: 10_000 });
    const version = driver.versionPattern.exec(`${stdout}${stderr}`)?.[1];
    if (version === undefined) throw new Error(`unexpected output: ${`${stdout}${stderr}`.trim()}`);
    return { path, version };
  } catch (e) {
    throw new PeerError(`cannot run '${path} ${driver.versionArgs.join(" ")}': ${messageOf(e)}`, {
      cause: e,
    });
  }
}
