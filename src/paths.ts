import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// This file compiles to dist/src/paths.js, two levels below the package root.
const root = new URL("../../", import.meta.url);

/** Absolute path of the package root (where package.json and proto/ live). */
export const packageRoot: string = fileURLToPath(root);

/** Absolute path of the compiled CLI entry, used to start child commands. */
export const cliEntry: string = fileURLToPath(new URL("dist/src/cli/cli.js", root));

/** Absolute path of the directory holding the .proto files. */
export const protoDir: string = fileURLToPath(new URL("proto/", root));

/**
 * True in a checkout of the repository, false in a copy npm installed: only a
 * checkout has the Makefile (package.json's `files` leaves it out), and with it
 * `make setup`, .tools/ and deploy/.
 */
export function isCheckout(): boolean {
  return existsSync(new URL("Makefile", root));
}
